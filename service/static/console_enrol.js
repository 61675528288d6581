// Token enrolment on the official's computer: the bridge generates the key on the token and has the token
// sign the CSR (it asks consent and the PIN itself), the service issues for the ticket, and the bridge
// writes the certificate and chain back beside the key. The private key never leaves the token.
"use strict";
(() => {
  const { t, api, element } = Kyso;
  const form = document.getElementById("enrol-form");
  const ticket = form.dataset.ticket;
  const bridgeUrl = form.dataset.bridgeUrl.replace(/\/$/, "");
  function say(text, kind) { const node = document.getElementById("enrol-status"); node.textContent = text; node.className = "status " + (kind || ""); }

  async function bridge(path, body) {
    const response = await fetch(bridgeUrl + path, body === undefined ? {} :
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json();
    if (!response.ok) throw new Error((Kyso.lang === "vi" ? answer.error.message_vi : answer.error.message) || response.status);
    return answer;
  }

  let info = null;
  async function load() {
    info = await api("/api/v1/enrolments/" + encodeURIComponent(ticket));
    const list = document.getElementById("enrol-subject");
    list.replaceChildren();
    for (const [name, value] of info.subject) list.append(element("dt", {}, name), element("dd", { "data-attribute": name }, value));
    list.append(element("dt", {}, t("certs.profile")), element("dd", {}, info.profile + " — " + info.agency_code));
    if (info.used) { say(t("enrol.used"), "bad"); document.getElementById("enrol-submit").disabled = true; }
  }

  async function readTokens() {
    try {
      const { tokens } = await bridge("/v1/tokens");
      const select = document.getElementById("enrol-token");
      select.replaceChildren(...tokens.map((token) => element("option", { value: token.label }, token.label)));
    } catch (error) { say(error.message, "bad"); }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = document.getElementById("enrol-token").value;
    if (!token) return;
    try {
      say(t("enrol.generating"));
      const key = await bridge("/v1/enrolments/keys", { token_label: token, subject: info.subject,
        key_type: document.getElementById("enrol-key-type").value, description: info.profile + " " + info.agency_code });
      say(t("enrol.issuing"));
      const issued = await api("/api/v1/enrolments/" + encodeURIComponent(ticket) + "/certificate", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ csr: key.csr }) });
      say(t("enrol.writing"));
      await bridge("/v1/enrolments/certificates", { token_label: token, key_id: key.key_id,
        certificate: issued.certificate, chain: issued.chain });
      say(t("enrol.done") + issued.serial, "ok");
      document.getElementById("enrol-status").dataset.serial = issued.serial;
      document.getElementById("enrol-submit").disabled = true;
    } catch (error) { say(error.message, "bad"); }
  });
  document.getElementById("enrol-read-tokens").addEventListener("click", readTokens);
  load().then(readTokens).catch((error) => say(error.message, "bad"));
})();
