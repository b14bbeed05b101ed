// Draws every `.chart[data-chart]` with ECharts (the option is the element's JSON),
// on load and again inside whatever htmx swapped in; resizes with the window.
(function () {
  "use strict";
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll(".chart[data-chart]").forEach(function (element) {
      var existing = window.echarts.getInstanceByDom(element);
      if (existing) existing.dispose();
      window.echarts.init(element, null, { renderer: "svg" }).setOption(JSON.parse(element.dataset.chart));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.detail.elt.parentNode || document); });
  window.addEventListener("resize", function () {
    document.querySelectorAll(".chart[data-chart]").forEach(function (element) {
      var chart = window.echarts && window.echarts.getInstanceByDom(element);
      if (chart) chart.resize();
    });
  });
})();
