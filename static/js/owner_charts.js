/* Charts on the owner pages. Each <canvas data-chart='SPEC'> is drawn with the vendored
   Chart.js; the page also shows the same numbers as a table, so a chart is never the only
   way to read them.

   SPEC (JSON, written by voltspot/web/owner/reports.py and sessions.py):
     {"type": "bar" | "line",
      "labels": ["Mon 3 Mar", ...],
      "axes": {"y": {"title": "kWh", "max": 100?},
               "y1": {"title": "sessions", "integer": true?}},
      "series": [{"label": "Energy (kWh)", "axis": "y", "data": [1.5, null, ...],
                  "type": "line"?}, ...]}
   The first axis is on the left, a second one on the right; null values are gaps.
   With little data (FEW labels or fewer: a report over a day or two) the bars stay slim,
   each shows its value above it and a line's points are drawn large, so one or two days
   read at a glance instead of as one wide block. Numbers and ticks are written the way
   the page's language writes them (<html lang>).

   Loaded in a page's `scripts` block, so it runs again after each boosted navigation;
   after an htmx swap the charts in the new content are drawn too. */
(function () {
  "use strict";

  var PALETTE = ["#0f766e", "#d97706", "#2563eb", "#db2777", "#65a30d", "#7c3aed"];
  var FEW = 14;

  function language() {
    return document.documentElement.getAttribute("lang") || "en";
  }

  /* Each bar's value above it, for charts with few bars (a Chart.js inline plugin). */
  var valueLabels = {
    id: "voltspotValueLabels",
    afterDatasetsDraw: function (chart) {
      if (chart.data.labels.length > FEW) return;
      var context = chart.ctx;
      var format = new Intl.NumberFormat(language(), {maximumFractionDigits: 2});
      context.save();
      context.font = "12px system-ui, sans-serif";
      context.textAlign = "center";
      context.textBaseline = "bottom";
      chart.data.datasets.forEach(function (dataset, index) {
        var meta = chart.getDatasetMeta(index);
        if (meta.hidden || meta.type !== "bar") return;
        context.fillStyle = colours().text;
        meta.data.forEach(function (bar, position) {
          var value = dataset.data[position];
          if (value === null || value === undefined) return;
          context.fillText(format.format(value), bar.x, bar.y - 2);
        });
      });
      context.restore();
    }
  };

  function colours() {
    var style = getComputedStyle(document.body);
    var dark = document.documentElement.getAttribute("data-bs-theme") === "dark";
    return {text: style.color, grid: dark ? "rgba(255,255,255,0.12)" : "rgba(0,0,0,0.08)"};
  }

  function config(spec) {
    var tone = colours();
    var many = spec.labels.length > 60;
    var few = spec.labels.length <= FEW;
    var datasets = spec.series.map(function (series, index) {
      var colour = PALETTE[index % PALETTE.length];
      var type = series.type || spec.type;
      return {
        label: series.label,
        data: series.data,
        type: type,
        yAxisID: series.axis || "y",
        borderColor: colour,
        backgroundColor: type === "line" ? colour : colour + "cc",
        borderWidth: 2,
        pointRadius: many ? 0 : (few ? 4 : 2),
        maxBarThickness: 56,
        spanGaps: true,
        order: type === "line" ? 0 : 1
      };
    });
    var scales = {x: {ticks: {color: tone.text, autoSkip: true, maxRotation: 50},
                      grid: {color: tone.grid}}};
    Object.keys(spec.axes || {y: {}}).forEach(function (id, index) {
      var axis = (spec.axes || {})[id] || {};
      scales[id] = {
        position: index === 0 ? "left" : "right",
        beginAtZero: true,
        max: axis.max,
        title: {display: Boolean(axis.title), text: axis.title, color: tone.text},
        ticks: {color: tone.text, precision: axis.integer ? 0 : undefined},
        grace: few ? "12%" : 0,
        grid: {color: tone.grid, drawOnChartArea: index === 0}
      };
    });
    return {
      type: spec.type,
      data: {labels: spec.labels, datasets: datasets},
      options: {
        locale: language(),
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: {mode: "index", intersect: false},
        plugins: {legend: {labels: {color: tone.text}}},
        scales: scales
      },
      plugins: [valueLabels]
    };
  }

  function draw(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var existing = window.Chart.getChart(canvas);
      if (existing) existing.destroy();
      try {
        new window.Chart(canvas, config(JSON.parse(canvas.getAttribute("data-chart"))));
      } catch (error) {
        console.warn("Voltspot: a chart could not be drawn; its table has the numbers.", error);
      }
    });
  }

  /* Chart.js is the script just before this one; after a boosted navigation htmx may run
     the two out of order, so wait for it briefly. */
  function whenChartJs(then, tries) {
    if (window.Chart) {
      then();
    } else if (tries > 0) {
      window.setTimeout(function () { whenChartJs(then, tries - 1); }, 50);
    } else {
      console.warn("Voltspot: Chart.js did not load; the tables have the numbers.");
    }
  }

  if (!window.VoltspotCharts) {
    window.VoltspotCharts = {draw: draw};
    document.addEventListener("htmx:afterSettle", function (event) {
      if (window.Chart) draw(event.target);
    });
  }
  whenChartJs(function () { draw(document); }, 100);
})();
