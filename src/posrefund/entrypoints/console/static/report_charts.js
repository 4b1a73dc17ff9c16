/* posrefund console: the report charts, drawn by ECharts (static/echarts.min.js, Apache-2.0, 6.1.0) from the
   JSON the page carries in <script type="application/json" id="chart-data">. Every chart has its table beside
   it (the same numbers, for screen readers and export); a click on a point or a bar opens the cases behind it.
   Amounts arrive in fen (integers) and are shown in yuan with two decimals. */
"use strict";
(function () {
  var source = document.getElementById("chart-data");
  if (!source || !window.echarts) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var zh = document.documentElement.lang !== "en";
  var T = zh
    ? { count: "笔数", amount: "金额（元）", rate: "退款率 %", merchant: "商家原因", customer: "顾客原因", error: "差错", other: "其他" }
    : { count: "Refunds", amount: "Amount (yuan)", rate: "Refund rate %", merchant: "Merchant", customer: "Customer", error: "Errors", other: "Other" };
  var yuan = function (fen) { return (fen / 100).toFixed(2); };
  var charts = [];
  function draw(id, option, links) {
    var box = document.getElementById(id);
    if (!box) {
      return;
    }
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption(option);
    if (links) {
      chart.on("click", function (p) {
        var url = links(p);
        if (url) {
          window.location.assign(url);
        }
      });
    }
    charts.push(chart);
  }
  var days = data.days.map(function (d) { return d.slice(5); });
  var grid = { left: 48, right: 48, top: 40, bottom: 28, containLabel: true };
  draw("chart-trend", {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: grid,
    xAxis: { type: "category", data: days },
    yAxis: [{ type: "value", name: T.count, minInterval: 1 }, { type: "value", name: T.amount }, { type: "value", show: false }],
    series: [
      { name: T.count, type: "line", data: data.counts },
      { name: T.amount, type: "line", yAxisIndex: 1, data: data.amounts_fen.map(yuan) },
      { name: T.rate, type: "line", yAxisIndex: 2, data: data.rates_pct, lineStyle: { type: "dashed" } }
    ]
  }, function (p) { return data.links[p.dataIndex]; });
  var categories = Object.keys(data.by_category);
  draw("chart-category", {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: grid,
    xAxis: { type: "category", data: days },
    yAxis: { type: "value", minInterval: 1 },
    series: categories.map(function (c) {
      return { name: T[c] || c, type: "bar", stack: "reasons", data: data.by_category[c] };
    })
  }, function (p) {
    var c = categories[p.seriesIndex];
    return data.links[p.dataIndex] + "&reason_category=" + encodeURIComponent(c);
  });
  var cells = [];
  var top = 0;
  data.heat.forEach(function (s, y) {
    s.counts.forEach(function (n, x) {
      cells.push([x, y, n]);
      top = Math.max(top, n);
    });
  });
  draw("chart-heat", {
    animation: false,
    tooltip: { position: "top" },
    grid: { left: 8, right: 8, top: 8, bottom: 56, containLabel: true },
    xAxis: { type: "category", data: days, splitArea: { show: true } },
    yAxis: { type: "category", data: data.heat.map(function (s) { return s.name; }), splitArea: { show: true } },
    visualMap: { min: 0, max: Math.max(1, top), calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 80 },
    series: [{ type: "heatmap", data: cells, label: { show: days.length <= 14 } }]
  }, function (p) {
    var store = data.heat[p.data[1]];
    return store ? data.store_links[store.store_id][p.data[0]] : "";
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
