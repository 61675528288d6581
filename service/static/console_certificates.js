// Certificates: search, view (identity, extensions, chain, OCSP now, history), renew, revoke with an RFC 5280
// reason after a confirmation naming the holder, issue from a CSR after the profile's checks, publish a CRL.
"use strict";
(() => {
  const { t, api, element } = Kyso;
  const detail = document.getElementById("cert");
  let current = null;
  let csrText = null;

  function say(id, text, kind) { const node = document.getElementById(id); node.textContent = text; node.className = "status " + (kind || ""); }
  function row(values, attributes) {
    const line = element("tr", attributes || {});
    for (const value of values) {
      if (value instanceof Node) { const cell = element("td"); cell.append(value); line.append(cell); }
      else line.append(element("td", {}, value === null || value === undefined ? "" : String(value)));
    }
    return line;
  }
  const json = (body) => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

  async function find() {
    const params = new URLSearchParams();
    const q = document.getElementById("certs-q").value.trim();
    const status = document.getElementById("certs-status").value;
    const before = document.getElementById("certs-before").value;
    if (q) params.set("q", q);
    if (status) params.set("status", status);
    if (before) params.set("expires_before", before);
    try {
      const { certificates } = await api("/api/v1/certificates?" + params.toString());
      const body = document.querySelector("#certs-table tbody");
      body.replaceChildren();
      for (const c of certificates.filter((c) => c.profile === "personal" || c.profile === "agency")) {
        const view = element("button", { type: "button", class: "view", "data-serial": c.serial,
          "aria-label": t("certs.view") + " " + c.serial }, t("certs.view"));
        view.addEventListener("click", () => open(c.serial));
        body.append(row([c.serial, c.subject, c.profile, c.issuer, c.not_after.slice(0, 10), t("certs." + c.status), view],
          { "data-serial": c.serial, "data-status": c.status }));
      }
      say("certs-status-line", body.children.length ? String(body.children.length) : t("certs.none"));
    } catch (error) { say("certs-status-line", error.message, "bad"); }
  }

  function holder(c) { return c.identity.common_name || c.subject; }

  async function open(serial) {
    const c = await api("/api/v1/certificates/" + serial);
    current = c;
    document.getElementById("cert-title").textContent = holder(c) + " — " + c.serial;
    const ocsp = document.getElementById("cert-ocsp");
    ocsp.textContent = c.ocsp.status + (c.ocsp.revoked_at ? " " + c.ocsp.revoked_at.slice(0, 19) + " (" + (c.ocsp.reason || "") + ")" : "");
    ocsp.dataset.status = c.ocsp.status;
    ocsp.className = c.ocsp.status === "good" ? "ok" : "bad";
    const identity = document.getElementById("cert-identity");
    identity.replaceChildren();
    for (const [name, value] of Object.entries(c.identity)) {
      if (value === null || (Array.isArray(value) && !value.length)) continue;
      identity.append(element("dt", {}, name), element("dd", { "data-field": name }, Array.isArray(value) ? value.join("; ") : value));
    }
    document.getElementById("cert-chain").replaceChildren(...c.chain.map((s) => element("li", {}, s)));
    const extensions = document.querySelector("#cert-extensions tbody");
    extensions.replaceChildren(...c.extensions.map((e) => row([e.name, e.critical ? t("console.yes") : t("console.no"), e.value])));
    const history = document.querySelector("#cert-history tbody");
    history.replaceChildren(...c.history.map((e) => row([e.at.slice(0, 19), e.actor, e.action, JSON.stringify(e.detail)],
      { "data-action": e.action })));
    document.getElementById("cert-revoke").disabled = Boolean(c.revoked_at);
    document.getElementById("cert-renew").disabled = Boolean(c.revoked_at);
    detail.hidden = false;
    detail.focus();
  }

  document.getElementById("cert-revoke").addEventListener("click", async () => {
    const reason = document.getElementById("cert-reason").value;
    if (!window.confirm(t("certs.confirm_revoke") + holder(current) + " (" + current.serial + "): " + reason + "?")) return;
    try {
      await api("/api/v1/certificates/" + current.serial + "/revocation", json({ reason }));
      await open(current.serial);
      say("cert-status", t("certs.revoked_ok"), "ok");
      find();
    } catch (error) { say("cert-status", error.message, "bad"); }
  });
  document.getElementById("cert-renew").addEventListener("click", async () => {
    try {
      const renewed = await api("/api/v1/certificates/" + current.serial + "/renewal", json({}));
      await open(current.serial);
      say("cert-status", t("certs.renewed") + renewed.serial, "ok");
      find();
    } catch (error) { say("cert-status", error.message, "bad"); }
  });

  function issueBody() {
    const body = { csr: csrText, profile: document.getElementById("issue-profile").value };
    const days = document.getElementById("issue-validity").value;
    if (days) body.validity_days = Number(days);
    return body;
  }
  document.getElementById("issue-csr").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    document.getElementById("issue-submit").disabled = true;
    if (!file) { csrText = null; return; }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    // PEM is sent as text; DER as base64 (the API takes either).
    csrText = text.includes("-----BEGIN") ? text : btoa(String.fromCharCode(...bytes));
  });
  for (const id of ["issue-profile", "issue-validity"]) {
    document.getElementById(id).addEventListener("change", () => { document.getElementById("issue-submit").disabled = true; });
  }
  document.getElementById("issue-check").addEventListener("click", async () => {
    if (!csrText) return;
    try {
      const result = await api("/api/v1/certificates/checks", json(issueBody()));
      const table = document.getElementById("issue-checks");
      table.querySelector("tbody").replaceChildren(...result.checks.map((c) => {
        const outcome = c.ok ? t("certs.passed") : t("certs.failed") + ": " + (Kyso.lang === "vi" ? c.message_vi : c.message);
        const line = row([t("check." + c.check), outcome], { "data-check": c.check, "data-ok": String(c.ok) });
        line.lastChild.className = c.ok ? "ok" : "bad";
        return line;
      }));
      table.hidden = false;
      document.getElementById("issue-submit").disabled = !result.may_issue;
      say("issue-status", result.subject || "", result.may_issue ? "ok" : "bad");
    } catch (error) { say("issue-status", error.message, "bad"); }
  });
  document.getElementById("issue-submit").addEventListener("click", async () => {
    const body = issueBody();
    body.agency_code = document.getElementById("issue-agency").value;
    try {
      const issued = await api("/api/v1/certificates", json(body));
      say("issue-status", t("certs.issued") + issued.serial, "ok");
      document.getElementById("issue-status").dataset.serial = issued.serial;
      document.getElementById("issue-submit").disabled = true;
      find();
    } catch (error) { say("issue-status", error.message, "bad"); }
  });

  for (const button of document.querySelectorAll(".publish-crl")) {
    button.addEventListener("click", async () => {
      try {
        const crl = await api("/api/v1/crls/" + button.dataset.issuer, { method: "POST" });
        say("crl-status", t("certs.crl_published") + crl.crl_number + " (" + crl.issuer + ", " + crl.revoked + ")", "ok");
      } catch (error) { say("crl-status", error.message, "bad"); }
    });
  }

  document.getElementById("enrol-start").addEventListener("submit", async (event) => {
    event.preventDefault();
    // The subject in VGCA order: C, then ST/L, O, OU, T, CN, UID (what `kyso token enroll` writes).
    const subject = [["country_name", "VN"]];
    const value = (id) => document.getElementById(id).value.trim();
    if (value("enrol-l")) subject.push(["locality_name", value("enrol-l")]);
    subject.push(["organization_name", value("enrol-o")]);
    if (value("enrol-ou")) subject.push(["organizational_unit_name", value("enrol-ou")]);
    if (value("enrol-t")) subject.push(["title", value("enrol-t")]);
    subject.push(["common_name", value("enrol-cn")], ["user_id", value("enrol-uid")]);
    try {
      const started = await api("/api/v1/enrolments", json({ subject, profile: document.getElementById("enrol-profile").value,
        agency_code: document.getElementById("enrol-agency").value }));
      const status = document.getElementById("enrol-start-status");
      status.replaceChildren(t("enrol.link"), element("code", { id: "enrol-link" }, location.origin + started.link));
      status.className = "status ok";
    } catch (error) { say("enrol-start-status", error.message, "bad"); }
  });

  document.getElementById("certs-search").addEventListener("submit", (event) => { event.preventDefault(); find(); });
  api("/api/v1/roster/agencies").then(({ agencies }) => {
    for (const id of ["issue-agency", "enrol-agency"]) {
      const select = document.getElementById(id);
      for (const a of agencies) select.append(element("option", { value: a.code }, a.code + " " + a.name));
    }
  });
  find();
})();
