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

  function indicationClass(indication) {
    return indication === "TOTAL_PASSED" ? "ok" : indication === "TOTAL_FAILED" ? "bad" : "warn";
  }

  async function check(file) {
    status.textContent = file.name + " …";
    report.hidden = true;
    const form = new FormData();
    form.append("file", file, file.name);
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
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files[0]) check(event.dataTransfer.files[0]);
  });
})();
