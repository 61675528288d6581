// Accounts and keys: your own password; for administrators, users (create, role, deactivate, one-time reset
// link shown once) and API keys (scopes, agency, last audited use, revoke). Also the reset-link page.
"use strict";
(() => {
  const { t, api, element } = Kyso;
  let csrf = Kyso.csrf;
  const call = (path, method, body) => api(path, { method, headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body) });
  function say(id, text, kind) { const node = document.getElementById(id); node.textContent = text; node.className = "status " + (kind || ""); }
  function button(text, attributes, action) {
    const node = element("button", Object.assign({ type: "button" }, attributes), text);
    node.addEventListener("click", action);
    return node;
  }
  function cell(...children) { const td = element("td"); td.append(...children); return td; }

  const reset = document.getElementById("reset-form");
  if (reset) {
    reset.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await call("/api/v1/password-resets", "POST", { token: reset.dataset.token, password: document.getElementById("reset-password").value });
        say("reset-status", t("reset.done"), "ok");
        document.getElementById("reset-login").hidden = false;
      } catch (error) { say("reset-status", error.message, "bad"); }
    });
    return;
  }

  document.getElementById("own-password").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await call("/api/v1/account/password", "POST", {
        current_password: document.getElementById("own-current").value, new_password: document.getElementById("own-new").value });
      csrf = answer.csrf_token;  // the session was renewed with the new password
      say("own-status", t("accounts.changed"), "ok");
      event.target.reset();
    } catch (error) { say("own-status", error.message, "bad"); }
  });

  if (!document.getElementById("users")) return;

  async function loadUsers() {
    const { users } = await api("/api/v1/users");
    const body = document.querySelector("#users-table tbody");
    body.replaceChildren();
    for (const user of users) {
      const line = element("tr", { "data-user": user.username });
      const role = element("select", { "aria-label": t("accounts.role") + " " + user.username, class: "role" });
      for (const value of ["administrator", "clerk", "official", "auditor"]) {
        const option = element("option", { value }, value);
        if (user.roles.includes(value)) option.selected = true;
        role.append(option);
      }
      line.append(element("td", {}, user.username), cell(role,
        button(t("accounts.save_role"), { class: "save-role" }, () => change(user.username, { roles: [role.value] }))),
        element("td", {}, user.agency_code || ""), element("td", { class: "active" }, user.active ? t("console.yes") : t("console.no")),
        cell(...(user.username === document.getElementById("users").dataset.me ? [] : [  // not yourself (the API refuses too)
          button(user.active ? t("accounts.deactivate") : t("accounts.activate"), { class: user.active ? "deactivate danger" : "activate" },
            () => change(user.username, { active: !user.active })), " "]),
        button(t("accounts.reset"), { class: "reset-link" }, () => resetLink(user.username))));
      body.append(line);
    }
  }
  async function change(username, body) {
    try { await call("/api/v1/users/" + encodeURIComponent(username), "PATCH", body); say("users-status", t("accounts.saved"), "ok"); loadUsers(); }
    catch (error) { say("users-status", error.message, "bad"); }
  }
  async function resetLink(username) {
    try {
      const answer = await call("/api/v1/users/" + encodeURIComponent(username) + "/password-reset", "POST");
      const status = document.getElementById("users-status");
      status.replaceChildren(t("accounts.reset_shown"), element("code", { id: "reset-link" }, location.origin + answer.link));
      status.className = "status ok";
    } catch (error) { say("users-status", error.message, "bad"); }
  }
  document.getElementById("user-create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { username: document.getElementById("new-username").value.trim(), password: document.getElementById("new-password").value,
      roles: [document.getElementById("new-role").value] };
    const display = document.getElementById("new-display").value.trim();
    const agency = document.getElementById("new-agency").value.trim();
    if (display) body.display_name = display;
    if (agency) body.agency_code = agency;
    try { await call("/api/v1/users", "POST", body); say("users-status", t("accounts.created") + body.username, "ok"); event.target.reset(); loadUsers(); }
    catch (error) { say("users-status", error.message, "bad"); }
  });

  async function loadKeys() {
    const { api_keys } = await api("/api/v1/api-keys");
    const body = document.querySelector("#keys-table tbody");
    body.replaceChildren();
    for (const key of api_keys) {
      const line = element("tr", { "data-key": key.name });
      line.append(element("td", {}, key.name), element("td", {}, key.scopes.join(", ")), element("td", {}, key.agency_code || ""),
        element("td", {}, key.last_used_at ? key.last_used_at.slice(0, 19) : "—"),
        element("td", { class: "revoked" }, key.revoked_at ? key.revoked_at.slice(0, 19) : ""),
        key.revoked_at ? element("td") : cell(button(t("accounts.revoke"), { class: "revoke danger" }, async () => {
          if (!window.confirm(t("accounts.confirm_revoke") + key.name + "?")) return;
          try { await call("/api/v1/api-keys/" + encodeURIComponent(key.name) + "/revocation", "POST"); loadKeys(); }
          catch (error) { say("keys-status", error.message, "bad"); }
        })));
      body.append(line);
    }
  }
  loadUsers();
  loadKeys();
})();
