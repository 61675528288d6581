// The signing page: choose a registered document, see it, sign it with the token through the bridge
// (prepare on the service -> the bridge signs the digest -> complete on the service), download the result.
"use strict";
(() => {
  const { t, api, element } = Kyso;
  const form = document.getElementById("sign-form");
  const documents = document.getElementById("document");
  const kind = document.getElementById("kind");
  const certificates = document.getElementById("certificate");
  const status = document.getElementById("sign-status");
  const preview = document.getElementById("preview");
  const download = document.getElementById("download");
  const image = document.getElementById("image");
  const seriesField = document.getElementById("series-field");
  const titleField = document.getElementById("title-field");
  const bridge = new KysoBridge({ baseUrl: form.dataset.bridgeUrl, lang: Kyso.lang });
  let known = [];

  function say(text, kindClass) {
    status.textContent = text;
    status.className = "status " + (kindClass || "");
  }

  async function loadDocuments() {
    const result = await api("/api/v1/documents?with_file=1");
    documents.replaceChildren();
    for (const doc of result.documents) {
      const label = "#" + doc.id + " " + (doc.number ? doc.number + "/" + (doc.notation || "") + " " : "") +
        (doc.title || doc.doc_type) + " (" + doc.direction + ")";
      documents.append(element("option", { value: doc.id, "data-direction": doc.direction }, label));
    }
    if (!result.documents.length) say(t("sign.no_documents"), "warn");
    showPreview();
  }

  function showPreview() {
    if (documents.value) preview.src = "/api/v1/documents/" + documents.value + "/file";
  }

  function onKind() {
    seriesField.hidden = kind.value !== "issue";
    titleField.hidden = kind.value !== "approve";
  }

  async function loadCertificates() {
    say("…");
    try {
      known = await bridge.listCertificates();
    } catch (error) {
      say(error.message || t("sign.no_bridge"), "bad");
      return;
    }
    certificates.replaceChildren();
    for (const entry of known) {
      const name = (entry.identity && entry.identity.common_name) || entry.subject;
      certificates.append(element("option", { value: entry.id, "data-kind": entry.kind }, entry.kind + ": " + name));
    }
    say("");
  }

  function readBase64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result.split(",", 2)[1]);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  async function sign(event) {
    event.preventDefault();
    download.hidden = true;
    const entry = known.find((c) => c.id === certificates.value);
    if (!entry) { say(t("sign.choose_certificate"), "bad"); return; }
    const body = { kind: kind.value, document_id: Number(documents.value), certificate: entry.certificate, chain: entry.chain };
    // A chosen PNG overrides; without one the service uses the stored image of the certificate's holder
    // (approve) or of the agency (issue), and says precisely which one is missing when there is none.
    if ((kind.value === "approve" || kind.value === "issue") && image.files[0]) {
      body[kind.value === "approve" ? "signature_image" : "seal_image"] = await readBase64(image.files[0]);
    }
    const title = document.getElementById("title-line").value.trim();
    if (kind.value === "approve" && title) body.title = title;
    if (kind.value === "issue") body.series = document.getElementById("series").value.trim();
    try {
      say(t("sign.preparing"));
      const session = await api("/api/v1/signing-sessions", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      say(t("sign.waiting_token"));
      const signed = await bridge.signDigest({
        certificateId: entry.id, digest: session.digest, digestAlgorithm: session.digest_algorithm,
        signatureAlgorithm: session.signature_algorithm, description: session.description });
      say(t("sign.completing"));
      const done = await api("/api/v1/signing-sessions/" + session.id + "/signature", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ signature: signed.signature }) });
      say(t("sign.success") + (done.number ? " — " + done.number.notation : ""), "ok");
      status.dataset.ledgerRecord = done.ledger_record;
      download.href = done.download_url;
      download.hidden = false;
      image.value = "";  // an override is for one signature: never reuse a signature image as the seal
      preview.src = "/api/v1/documents/" + documents.value + "/file?revision=" + Date.now();
    } catch (error) {
      say(t("sign.failed") + ": " + error.message, "bad");
    }
  }

  documents.addEventListener("change", showPreview);
  kind.addEventListener("change", onKind);
  document.getElementById("load-certificates").addEventListener("click", loadCertificates);
  form.addEventListener("submit", sign);
  onKind();
  loadDocuments().catch((error) => say(error.message, "bad"));
})();
