// The audit trail: who did what, filtered by actor, action, agency and days (Hanoi time).
"use strict";
(() => {
  const { t, api, element } = Kyso;
  const fields = { actor: "audit-actor", action: "audit-action", agency: "audit-agency", from: "audit-from", to: "audit-to" };
  async function show() {
    const params = new URLSearchParams({ limit: "500" });
    for (const [name, id] of Object.entries(fields)) {
      const value = document.getElementById(id).value.trim();
      if (value) params.set(name, value);
    }
    const status = document.getElementById("audit-status");
    try {
      const { events } = await api("/api/v1/audit?" + params.toString());
      const body = document.querySelector("#audit-table tbody");
      body.replaceChildren(...events.map((e) => {
        const line = element("tr", { "data-action": e.action, "data-actor": e.actor });
        for (const value of [e.at.slice(0, 19), e.actor, e.action, e.target || "", e.outcome, JSON.stringify(e.detail)]) {
          line.append(element("td", {}, value));
        }
        return line;
      }));
      status.textContent = events.length ? String(events.length) : t("audit.none");
      status.className = "status";
    } catch (error) { status.textContent = error.message; status.className = "status bad"; }
  }
  document.getElementById("audit-form").addEventListener("submit", (event) => { event.preventDefault(); show(); });
  show();
})();
