// Shared by the pages: translated words, and calls to /api/v1 with the session cookie and CSRF token.
"use strict";
const Kyso = (() => {
  const messages = JSON.parse(document.getElementById("kyso-messages").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const lang = document.documentElement.lang || "vi";
  function t(key) { return messages[key] || key; }
  async function api(path, options = {}) {
    const headers = Object.assign({ "X-CSRF-Token": csrf }, options.headers || {});
    const response = await fetch(path, Object.assign({ credentials: "same-origin" }, options, { headers }));
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      let body = null;
      if (type.includes("json")) {
        body = await response.json();
        message = (lang === "vi" ? body.message_vi : body.message) || message;
      }
      const error = new Error(message);
      error.status = response.status;
      error.body = body;  // the whole error (e.g. detail.problems of a refused CSV, by line and column)
      throw error;
    }
    return type.includes("json") ? response.json() : response.blob();
  }
  function element(tag, attributes = {}, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  return { t, api, element, lang, csrf };
})();
