/* Draws the dashboard's charts with the vendored ECharts from the JSON embedded in the page
   (#dashboard-charts). The tables under each chart hold the same figures and work without it. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-charts");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent || "{}");
  var pct = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };

  function lines(d) {
    return d.series.map(function (s) { return { name: s.name, type: "line", data: s.data }; });
  }
  function bars(d) {
    return d.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; });
  }
  var build = {
    trend: function (d) {
      return { tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: d.x }, yAxis: pct, series: lines(d) };
    },
    pareto: function (d) {
      return {
        tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: d.x },
        yAxis: [{ type: "value", name: "问题件" }, pct],
        series: [{ name: "问题件", type: "bar", data: d.count },
                 { name: "累计占比", type: "line", yAxisIndex: 1, data: d.cumulative }]
      };
    },
    satisfaction: function (d) {
      return {
        tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: d.x }, yAxis: pct,
        series: [{ name: "满意率", type: "bar", data: d.share },
                 { name: "阈值", type: "line", step: "middle", data: d.threshold }]
      };
    }
  };
  document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
    var key = el.getAttribute("data-chart");
    var d = data[key];
    if (!d || !d.x || d.x.length === 0) { return; }
    var option = build[key] ? build[key](d) : {
      tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: d.x }, yAxis: pct, series: bars(d)
    };
    el.style.display = "block";  /* hidden while empty (no JavaScript: tables only) */
    el.style.height = "300px";
    option.animation = false;  /* figures, not a show: drawn at once (and so in a screenshot) */
    echarts.init(el).setOption(option);
  });
})();
