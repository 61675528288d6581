// The verification page: drop a file, POST it to /api/v1/validations, show the report in the page language.
"use strict";
(() => {
  const { t, api, element } = Kyso;
  const input = document.getElementById("file");
  const zone = document.getElementById("dropzone");
  const status = document.getElementById("verify-status");
  const report = document.getElementById("report");
  const rows = document.querySelector("#signatures tbody");
  const messages = document.getElementById("messages");
  const receipt = document.getElementById("receipt");
  const contentField = document.getElementById("content-field");
  const contentInput = document.getElementById("content");
  let pending = null;

  function indicationClass(indication) {
    return indication === "TOTAL_PASSED" ? "ok" : indication === "TOTAL_FAILED" ? "bad" : "warn";
  }

  function isDetached(file) {
    return /\.p7[sm]$/i.test(file.name);
  }

  async function check(file) {
    report.hidden = true;
    if (isDetached(file) && !contentInput.files[0]) {
      // A detached CAdES signature is checked against the file it signs: ask for it, then go on.
      pending = file;
      contentField.hidden = false;
      status.textContent = t("verify.content");
      status.className = "status warn";
      return;
    }
    status.textContent = file.name + " …";
    status.className = "status";
    const form = new FormData();
    form.append("file", file, file.name);
    if (isDetached(file)) form.append("content", contentInput.files[0], contentInput.files[0].name);
    try {
      const result = await api("/api/v1/validations?lang=" + Kyso.lang, { method: "POST", body: form });
      show(result);
      status.textContent = "";
    } catch (error) {
      status.textContent = error.message;
      status.className = "status bad";
    }
  }

  function show(result) {
    const entry = result.files[0];
    const headline = document.getElementById("file-indication");
    headline.textContent = t("indication." + entry.indication);
    headline.className = indicationClass(entry.indication);
    headline.dataset.indication = entry.indication;
    rows.replaceChildren();
    messages.replaceChildren();
    for (const signature of entry.signatures || []) {
      const row = element("tr", { "data-indication": signature.indication });
      const signer = signature.signer || {};
      row.append(
        element("td", {}, signer.name || signer.common_name || "?"),
        element("td", {}, signature.kind),
        element("td", {}, signature.signing_time || ""),
        element("td", { class: indicationClass(signature.indication) },
          t("indication." + signature.indication) + (signature.sub_indication ? " (" + signature.sub_indication + ")" : "")),
        element("td", {}, signature.modifications || ""),
      );
      rows.append(row);
      for (const message of signature.messages || []) messages.append(element("li", {}, message));
    }
    for (const message of entry.messages || []) messages.append(element("li", {}, message));
    if (result.receipt_url) {
      receipt.href = result.receipt_url;
      receipt.hidden = false;
    } else {
      receipt.hidden = true;
    }
    report.hidden = false;
  }

  input.addEventListener("change", () => { if (input.files[0]) check(input.files[0]); });
  contentInput.addEventListener("change", () => { if (pending && contentInput.files[0]) check(pending); });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files[0]) check(event.dataTransfer.files[0]);
  });
})();
