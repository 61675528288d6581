// An official's own page: the certificates on record for them and their stored signature image.
"use strict";
(() => {
  const { t, api, element } = Kyso;
  const id = document.getElementById("me").dataset.official;
  const image = document.getElementById("me-image");
  function say(text, kind) { const node = document.getElementById("me-status"); node.textContent = text; node.className = "status " + (kind || ""); }

  function showImage() {
    const probe = new Image();
    const source = "/api/v1/officials/" + id + "/signature-image?" + Date.now();
    probe.onload = () => { image.src = source; image.hidden = false; document.getElementById("me-no-image").hidden = true; };
    probe.src = source;
  }

  async function load() {
    const official = await api("/api/v1/me/official");
    document.getElementById("me-name").textContent = official.full_name + " — " + official.agency_code;
    const body = document.querySelector("#me-certificates tbody");
    body.replaceChildren(...official.certificates.map((c) => {
      const line = element("tr", { "data-serial": c.serial });
      for (const value of [c.serial, c.not_after.slice(0, 10),
        c.revoked_at ? t("coverage.revoked") : (c.valid_now ? t("officials.valid") : t("officials.not_valid"))]) {
        line.append(element("td", {}, value));
      }
      return line;
    }));
  }

  document.getElementById("me-upload").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = document.getElementById("me-file").files[0];
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    try {
      await api("/api/v1/officials/" + id + "/signature-image", { method: "PUT",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ image: btoa(binary) }) });
      say(t("me.saved"), "ok");
      showImage();
    } catch (error) { say(error.message, "bad"); }
  });
  load().catch((error) => say(error.message, "bad"));
  showImage();
})();
