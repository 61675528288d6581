// The dashboard: the monthly report as inline SVG bar charts per level (no CDN, no library), each agency's
// signing rate against the level's target; a click on a bar shows the documents and records behind it.
"use strict";
(() => {
  const { t, api, element } = Kyso;
  const SVG = "http://www.w3.org/2000/svg";
  const monthInput = document.getElementById("month");
  const metricInput = document.getElementById("metric");
  let lastReport = null;
  const levels = document.getElementById("levels");
  const status = document.getElementById("dashboard-status");
  const drill = document.getElementById("drilldown");

  function currentMonth() {
    // Months are in Asia/Ho_Chi_Minh time (UTC+7, no daylight saving).
    const now = new Date(Date.now() + 7 * 3600 * 1000);
    return now.toISOString().slice(0, 7);
  }

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function chart(level, metric) {
    const agencies = level.agencies.concat([Object.assign({}, level.totals, { total: true })]);
    const rowHeight = 26, left = 260, width = 720, barWidth = width - left - 60;
    const height = agencies.length * rowHeight + 30;
    const figure = svg("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": t("metric." + metric) + " — " + (Kyso.lang === "vi" ? level.name_vi : level.name_en),
      "data-metric": metric });
    const target = level.targets[metric] ? level.targets[metric].percent : null;
    agencies.forEach((agency, index) => {
      const rate = agency.rates[metric];
      const percent = rate.percent === null ? 0 : rate.percent;
      const y = 10 + index * rowHeight;
      const name = agency.total ? "Σ " + t("dashboard.total") : agency.name;
      figure.append(svg("text", { x: left - 8, y: y + 15, "text-anchor": "end" }, name));
      const state = rate.meets_target === false ? "below" : "met";
      const bar = svg("rect", { class: "bar " + state, x: left, y, height: 18,
        width: Math.max(1, barWidth * percent / 100), "data-agency": agency.code, "data-percent": rate.percent });
      bar.append(svg("title", {}, `${name}: ${rate.percent === null ? "—" : rate.percent + "%"}`));
      bar.addEventListener("click", () => showDrilldown(level, agency, name));
      figure.append(bar);
      figure.append(svg("text", { x: left + barWidth + 6, y: y + 15, class: "value" },
        rate.percent === null ? "—" : rate.percent + "%"));
    });
    if (target !== null) {
      const x = left + barWidth * target / 100;
      figure.append(svg("line", { class: "target", x1: x, x2: x, y1: 4, y2: height - 16 }));
      figure.append(svg("text", { x, y: height - 3, "text-anchor": "middle" }, t("dashboard.target") + " " + target + "%"));
    }
    return figure;
  }

  const FIGURES = ["outgoing", "signed_valid_both", "personal_only", "agency_only", "unsigned", "secret_excluded",
    "officials", "officials_covered", "expiring_soon", "incoming", "incoming_valid", "incoming_invalid",
    "incoming_returned"];

  function showDrilldown(level, agency, name) {
    document.getElementById("drilldown-title").textContent = t("dashboard.drilldown") + ": " + name;
    const head = drill.querySelector("thead");
    const body = drill.querySelector("tbody");
    head.replaceChildren(element("tr", {}));
    for (const label of ["", "n", t("dashboard.documents"), t("dashboard.behind")]) head.firstChild.append(element("th", {}, label));
    body.replaceChildren();
    for (const key of FIGURES) {
      const figure = agency.figures[key];
      if (!figure) continue;
      const row = element("tr", { "data-figure": key });
      row.append(element("td", {}, t("figure." + key)), element("td", {}, String(figure.count)),
        element("td", { class: "documents" }, (figure.document_ids || []).join(", ")),
        element("td", {}, (figure.record_ids || figure.certificate_serials || []).slice(0, 20).join(", ")));
      body.append(row);
    }
    drill.hidden = false;
  }

  function draw(report) {
    levels.replaceChildren();
    drill.hidden = true;
    let shown = 0;
    for (const level of report.levels) {
      if (!level.agencies.length) continue;
      shown += 1;
      const section = element("section", { class: "card level", "data-level": level.code });
      const targets = Object.entries(level.targets).map(([metric, v]) => t("metric." + metric) + " " + v.percent + "%").join(", ");
      section.append(element("h2", {}, (Kyso.lang === "vi" ? level.name_vi : level.name_en) +
        (targets ? " — " + t("dashboard.target") + ": " + targets : "")));
      section.append(chart(level, metricInput.value));
      levels.append(section);
    }
    if (!shown) status.textContent = t("dashboard.empty");
  }

  async function show(month) {
    status.textContent = "…";
    levels.replaceChildren();
    drill.hidden = true;
    const base = "/api/v1/reports/monthly?month=" + encodeURIComponent(month);
    document.getElementById("download-csv").href = base + "&format=csv&lang=" + Kyso.lang;
    document.getElementById("download-xlsx").href = base + "&format=xlsx&lang=" + Kyso.lang;
    try {
      lastReport = await api(base);
      status.textContent = lastReport.month + " (" + lastReport.timezone + ")";
      draw(lastReport);
    } catch (error) {
      status.textContent = error.message;
      status.className = "status bad";
    }
  }

  monthInput.value = monthInput.value || currentMonth();
  metricInput.addEventListener("change", () => { if (lastReport) draw(lastReport); });
  document.getElementById("month-form").addEventListener("submit", (event) => {
    event.preventDefault();
    show(monthInput.value);
  });
  show(monthInput.value);
})();
