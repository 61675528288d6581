// Officials and agencies: search, view one official (certificates, history), edit title / unit / active
// period, deactivate (a confirmation naming the person), and import a CSV after a check that stores nothing.
"use strict";
(() => {
  const { t, api, element } = Kyso;
  const search = document.getElementById("officials-search");
  const mayWrite = search.dataset.mayWrite === "yes";
  const status = document.getElementById("officials-status");
  const detail = document.getElementById("official");
  let agencies = [];
  let current = null;

  function say(node, text, kind) { node.textContent = text; node.className = "status " + (kind || ""); }
  function row(values, attributes) {
    const line = element("tr", attributes || {});
    for (const value of values) {
      if (value instanceof Node) { const cell = element("td"); cell.append(value); line.append(cell); }
      else line.append(element("td", {}, value === null || value === undefined ? "" : String(value)));
    }
    return line;
  }

  async function loadAgencies() {
    agencies = (await api("/api/v1/roster/agencies")).agencies;
    const select = document.getElementById("officials-agency");
    const body = document.querySelector("#agencies-table tbody");
    body.replaceChildren();
    for (const agency of agencies) {
      select.append(element("option", { value: agency.code }, agency.code + " " + agency.name));
      body.append(row([agency.code, agency.name, agency.level, agency.parent_code || "",
        agency.valid_from + " – " + (agency.valid_until || "")], { "data-agency": agency.code }));
    }
    const edit = document.getElementById("edit-agency");
    if (edit) for (const agency of agencies) edit.append(element("option", { value: agency.code }, agency.code + " " + agency.name));
  }

  async function find() {
    say(status, t("console.loading"));
    const q = document.getElementById("officials-q").value.trim();
    const agency = document.getElementById("officials-agency").value;
    const params = new URLSearchParams();
    if (q) params.set("q", q);
    if (agency) params.set("agency", agency);
    try {
      const { officials } = await api("/api/v1/roster/officials?" + params.toString());
      const body = document.querySelector("#officials-table tbody");
      body.replaceChildren();
      for (const official of officials) {
        const view = element("button", { type: "button", class: "view", "data-official": official.id,
          "aria-label": t("officials.view") + " " + official.full_name }, t("officials.view"));
        view.addEventListener("click", () => open(official.id));
        body.append(row([official.full_name, official.title, official.person_id, official.agency_code,
          official.active ? t("officials.active") : t("officials.inactive"),
          official.has_valid_certificate ? t("officials.valid") : t("officials.not_valid"), view],
          { "data-official": official.id }));
      }
      say(status, officials.length ? String(officials.length) : t("officials.none"));
    } catch (error) { say(status, error.message, "bad"); }
  }

  function describe(changes) {
    return Object.entries(changes || {}).map(([name, [old, now]]) => name + ": " + (old ?? "—") + " → " + (now ?? "—")).join("; ");
  }

  async function open(id) {
    const official = await api("/api/v1/roster/officials/" + id);
    current = official;
    document.getElementById("official-name").textContent = official.full_name;
    const fields = document.getElementById("official-fields");
    fields.replaceChildren();
    for (const [label, value] of [["officials.person_id", official.identifiers.join("; ")],
      ["officials.role", official.title || ""], ["officials.agency", official.agency_code],
      ["officials.active_from", official.active_from || "—"], ["officials.active_until", official.active_until || "—"],
      ["officials.status", official.active ? t("officials.active") : t("officials.inactive")]]) {
      fields.append(element("dt", {}, t(label)), element("dd", { "data-field": label }, value));
    }
    const certificates = document.querySelector("#official-certificates tbody");
    certificates.replaceChildren();
    for (const c of official.certificates) {
      certificates.append(row([c.serial, c.not_after.slice(0, 10),
        c.revoked_at ? t("coverage.revoked") + " " + c.revoked_at.slice(0, 10) : (c.valid_now ? t("officials.valid") : t("officials.not_valid"))]));
    }
    const history = document.querySelector("#official-history tbody");
    history.replaceChildren();
    for (const event of official.history) {
      history.append(row([event.at.slice(0, 19), event.actor, event.action, describe(event.detail.changes)],
        { "data-action": event.action }));
    }
    if (mayWrite && official.may_edit) {
      document.getElementById("edit-title").value = official.title || "";
      document.getElementById("edit-agency").value = official.agency_code;
      document.getElementById("edit-from").value = official.active_from || "";
      document.getElementById("edit-until").value = official.active_until || "";
    }
    say(document.getElementById("official-status"), "");
    detail.hidden = false;
    detail.focus();
  }

  async function change(path, body) {
    const out = document.getElementById("official-status");
    try {
      await api(path, { method: path.endsWith("deactivation") ? "POST" : "PATCH",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      await open(current.id);
      say(out, t("officials.saved"), "ok");
      find();
    } catch (error) { say(out, error.message, "bad"); }
  }

  const edit = document.getElementById("official-edit");
  if (edit) {
    edit.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = {};
      const title = document.getElementById("edit-title").value.trim();
      if (title !== (current.title || "")) body.title = title || null;
      const agency = document.getElementById("edit-agency").value;
      if (agency !== current.agency_code) body.agency_code = agency;
      const from = document.getElementById("edit-from").value || null;
      if (from !== current.active_from) body.active_from = from;
      const until = document.getElementById("edit-until").value || null;
      if (until !== current.active_until) body.active_until = until;
      change("/api/v1/roster/officials/" + current.id, body);
    });
    document.getElementById("official-deactivate").addEventListener("click", () => {
      if (window.confirm(t("officials.confirm_deactivate") + current.full_name + " (" + current.person_id + ")")) {
        change("/api/v1/roster/officials/" + current.id + "/deactivation", {});
      }
    });
  }

  const importForm = document.getElementById("import-form");
  if (importForm) {
    const file = document.getElementById("import-file");
    const store = document.getElementById("import-store");
    const out = document.getElementById("import-status");
    const problems = document.getElementById("import-problems");
    const kind = document.getElementById("import-kind");
    async function send(preview) {
      if (!file.files.length) return;
      const path = "/api/v1/roster/" + kind.value + (preview ? "/preview" : "");
      const body = new FormData();
      body.append("file", file.files[0]);
      problems.hidden = true;
      try {
        const answer = await api(path, { method: "POST", body });
        if (preview) { say(out, t("import.ok") + answer.would_import, "ok"); store.disabled = false; }
        else { say(out, t("import.done") + answer.imported, "ok"); store.disabled = true; loadAgencies().then(find); }
      } catch (error) {
        store.disabled = true;
        say(out, t("import.refused") + ": " + error.message, "bad");
        const lines = (error.body && error.body.detail && error.body.detail.problems) || [];
        const tbody = problems.querySelector("tbody");
        tbody.replaceChildren();
        for (const p of lines) tbody.append(row([p.line, p.column || "", Kyso.lang === "vi" ? p.message_vi : p.message],
          { "data-line": p.line, "data-column": p.column || "" }));
        problems.hidden = !lines.length;
      }
    }
    file.addEventListener("change", () => { store.disabled = true; say(out, ""); problems.hidden = true; });
    kind.addEventListener("change", () => { store.disabled = true; });
    document.getElementById("import-check").addEventListener("click", () => send(true));
    store.addEventListener("click", () => send(false));
  }

  search.addEventListener("submit", (event) => { event.preventDefault(); find(); });
  loadAgencies().then(() => {
    if (search.dataset.ownAgency) document.getElementById("officials-agency").value = search.dataset.ownAgency;
    find();
  });
})();
