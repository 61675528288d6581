// Coverage: per level and agency, who holds a valid personal certificate and who does not, seals, expiring
// and revoked certificates; every number is a button that lists the people or certificates behind it.
"use strict";
(() => {
  const { t, api, element } = Kyso;
  const form = document.getElementById("coverage-form");
  const dayInput = document.getElementById("coverage-date");
  const windowInput = document.getElementById("coverage-window");
  const levels = document.getElementById("coverage-levels");
  const status = document.getElementById("coverage-status");
  const drill = document.getElementById("coverage-drilldown");

  function query(format) {
    const parts = [];
    if (dayInput.value) parts.push("date=" + encodeURIComponent(dayInput.value));
    parts.push("window_days=" + encodeURIComponent(windowInput.value || "60"));
    if (format) parts.push("format=" + format, "lang=" + Kyso.lang);
    return "/api/v1/coverage?" + parts.join("&");
  }

  function figure(count, agency, group, label) {
    // A number that drills down: a real button, so it is reachable and usable with the keyboard alone.
    const button = element("button", { type: "button", class: "figure", "data-agency": agency.code,
      "data-group": group, "aria-label": label + " — " + agency.name + ": " + count }, String(count));
    button.addEventListener("click", () => showPeople(agency, group, label));
    return button;
  }

  function showPeople(agency, group, label) {
    document.getElementById("coverage-drilldown-title").textContent = label + " — " + agency.name;
    const head = drill.querySelector("thead");
    const body = drill.querySelector("tbody");
    body.replaceChildren();
    const people = group === "with_certificate" || group === "without_certificate";
    const columns = people ? [t("coverage.name"), t("coverage.role"), t("officials.person_id")]
      : [t("coverage.name"), t("coverage.serial"), t("coverage.not_after"), t("coverage.revoked_at")];
    const row = element("tr");
    for (const c of columns) row.append(element("th", { scope: "col" }, c));
    head.replaceChildren(row);
    const items = people ? agency.people[group] : agency.certificates[group];
    for (const item of items) {
      const line = element("tr", { "data-official": item.official_id || "", "data-serial": item.serial || "" });
      const cells = people ? [item.full_name, item.title || "", item.person_id]
        : [item.holder, item.serial, item.not_after.slice(0, 10), item.revoked_at ? item.revoked_at.slice(0, 19) : ""];
      for (const c of cells) line.append(element("td", {}, c));
      body.append(line);
    }
    if (!items.length) {
      const line = element("tr");
      line.append(element("td", { colspan: columns.length }, t("console.none")));
      body.append(line);
    }
    drill.hidden = false;
    drill.focus();
  }

  function table(level) {
    const node = element("table", { class: "coverage", "data-level": level.code });
    const head = element("tr");
    for (const c of ["coverage.agency", "coverage.officials", "coverage.covered", "coverage.uncovered", "coverage.percent",
      "coverage.seal", "coverage.expiring", "coverage.revoked"]) head.append(element("th", { scope: "col" }, t(c)));
    const thead = element("thead");
    thead.append(head);
    const body = element("tbody");
    for (const agency of level.agencies) {
      const row = element("tr", { "data-agency": agency.code });
      row.append(element("th", { scope: "row" }, agency.code + " " + agency.name));
      row.append(element("td", { class: "officials" }, String(agency.officials)));
      const cells = [
        ["covered", "with_certificate", "coverage.covered"], ["uncovered", "without_certificate", "coverage.uncovered"]];
      for (const [key, group, label] of cells) {
        const cell = element("td", { class: key });
        cell.append(figure(agency[key], agency, group, t(label)));
        row.append(cell);
      }
      row.append(element("td", { class: "percent" }, agency.percent === null ? "—" : agency.percent + "%"));
      const seal = element("td", { class: "seal " + (agency.has_valid_seal ? "ok" : "bad") });
      seal.append(figure(agency.certificates.seal.length, agency, "seal", t("coverage.seal")));
      row.append(seal);
      for (const [key, label] of [["expiring", "coverage.expiring"], ["revoked", "coverage.revoked"]]) {
        const cell = element("td", { class: key });
        cell.append(figure(agency[key], agency, key, t(label)));
        row.append(cell);
      }
      body.append(row);
    }
    const total = element("tr", { class: "total" });
    total.append(element("th", { scope: "row" }, t("coverage.total")));
    for (const value of [level.officials, level.covered, level.uncovered,
      level.percent === null ? "—" : level.percent + "%",
      t("coverage.missing") + " " + level.agencies_without_seal, level.expiring, level.revoked]) {
      total.append(element("td", {}, String(value)));
    }
    body.append(total);
    node.append(thead, body);
    return node;
  }

  async function show() {
    status.textContent = t("console.loading");
    status.className = "status";
    drill.hidden = true;
    document.getElementById("coverage-csv").href = query("csv");
    document.getElementById("coverage-xlsx").href = query("xlsx");
    try {
      const report = await api(query());
      levels.replaceChildren();
      for (const level of report.levels) {
        const section = element("section", { class: "card level", "data-level": level.code });
        section.append(element("h2", {}, (Kyso.lang === "vi" ? level.name_vi : level.name_en) + " — " +
          (level.percent === null ? "—" : level.percent + "%")));
        section.append(table(level));
        levels.append(section);
      }
      status.textContent = report.levels.length ? report.at.slice(0, 19) : t("coverage.empty");
    } catch (error) {
      status.textContent = error.message;
      status.className = "status bad";
    }
  }

  document.getElementById("coverage-close").addEventListener("click", () => { drill.hidden = true; });
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  show();
})();
