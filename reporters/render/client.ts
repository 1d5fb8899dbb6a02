// The browser side of the HTML report: reads the chart specs embedded in the page
// (<script type="application/json" id="kube-sli-charts">) and draws them with uPlot.
// Plain ES2017, no modules, no network. It records what it drew in window.__kubeSli
// ({ charts: [{ id, title, points }], errors: [] }) so tests can check every chart.

export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var state = (window.__kubeSli = { charts: [], errors: [], done: false });
  window.addEventListener('error', function (e) { state.errors.push(String(e.message)); });
  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  var TIME = [['ns', 1e-9], ['µs', 1e-6], ['ms', 1e-3], ['s', 1]];
  var THR = [['B/s', 1], ['kB/s', 1e3], ['MB/s', 1e6], ['GB/s', 1e9], ['TB/s', 1e12]];
  function sig(x, p) { return String(Number(x.toPrecision(p || 3))); }
  function fmt(v, dim, p) {
    if (v === null || v === undefined || isNaN(v)) return '–';
    if (!dim || dim === 'dimensionless') return sig(v, p);
    var scale = dim === 'time' ? TIME : THR;
    var a = Math.abs(v);
    if (a === 0) return '0';
    var i = 0;
    while (i + 1 < scale.length && a >= scale[i + 1][1]) i++;
    return (v < 0 ? '-' : '') + sig(a / scale[i][1], p) + ' ' + scale[i][0];
  }
  // Tick labels: the fewest significant digits (3 to 6) that keep neighbouring ticks apart.
  function tickLabels(splits, dim) {
    var shown = splits.filter(function (v) { return v !== null && v !== undefined; });
    for (var p = 3; p <= 6; p++) {
      var labels = shown.map(function (v) { return fmt(v, dim, p); });
      var unique = labels.filter(function (l, i) { return labels.indexOf(l) === i; });
      if (unique.length === labels.length) break;
    }
    return splits.map(function (v) { return v === null || v === undefined ? '' : fmt(v, dim, p > 6 ? 6 : p); });
  }
  function ninesLabel(x) {
    var q = 1 - Math.pow(10, -x);
    var p = q * 100;
    var digits = Math.max(0, Math.ceil(x) - 2);
    return (x === 0 ? '0' : p.toFixed(Math.min(4, digits))) + '%';
  }
  var NINES = [0, Math.log10(2), 1, 2, 3, 4, 5];

  function render(spec, el) {
    var seen = {};
    var xs = [];
    spec.series.forEach(function (s) {
      s.points.forEach(function (p) { if (!seen[p[0]]) { seen[p[0]] = true; xs.push(p[0]); } });
    });
    xs.sort(function (a, b) { return a - b; });
    var points = 0;
    var cols = spec.series.map(function (s) {
      var m = new Map();
      s.points.forEach(function (p) { m.set(p[0], p[1]); });
      return xs.map(function (x) {
        if (!m.has(x)) return null;
        points++;
        return m.get(x);
      });
    });
    var xValue = function (u, v) {
      if (v === null || v === undefined) return '–';
      if (spec.x.scale === 'nines') return ninesLabel(v);
      if (spec.x.scale === 'percent') return v.toFixed(1) + '%';
      return fmt(v, spec.x.dimension);
    };
    var xAxis = {
      label: spec.x.label,
      values: function (u, splits) {
        if (spec.x.scale === 'nines' || spec.x.scale === 'percent') return splits.map(function (v) { return v === null ? '' : xValue(u, v); });
        return tickLabels(splits, spec.x.dimension);
      }
    };
    if (spec.x.scale === 'nines') {
      xAxis.splits = function (u, i, min, max) { return NINES.filter(function (t) { return t >= min - 1e-9 && t <= max + 1e-9; }); };
    }
    var yAxis = { label: spec.y.label, size: 78, values: function (u, splits) { return tickLabels(splits, spec.y.dimension); } };
    var width = Math.max(320, Math.min(1100, (el.clientWidth || 900) - 8));
    var opts = {
      title: spec.title,
      width: width,
      height: 340,
      scales: {
        x: { time: false, distr: spec.x.scale === 'log' ? 3 : 1 },
        y: spec.y.range ? { distr: 1, range: spec.y.range } : { distr: spec.y.scale === 'log' ? 3 : 1 }
      },
      axes: [xAxis, yAxis],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series: [{ label: spec.x.label, value: xValue }].concat(spec.series.map(function (s, i) {
        var color = PALETTE[i % PALETTE.length];
        var o = {
          label: s.label,
          stroke: color,
          width: 2,
          spanGaps: true,
          points: { show: true, size: 5 },
          value: function (u, v) { return fmt(v, spec.y.dimension); }
        };
        if (s.dash) o.dash = [8, 5];
        if (s.bars) { o.paths = uPlot.paths.bars({ size: [0.9, 60] }); o.fill = color + '66'; o.points = { show: false }; }
        return o;
      }))
    };
    var u = new uPlot(opts, [xs].concat(cols), el);
    state.charts.push({ id: spec.id, title: spec.title, points: points, series: spec.series.length });
    return u;
  }

  var specs = JSON.parse(document.getElementById('kube-sli-charts').textContent);
  var plots = [];
  specs.forEach(function (spec) {
    var el = document.getElementById(spec.id);
    if (!el) { state.errors.push('no container for ' + spec.id); return; }
    try { plots.push([render(spec, el), el]); } catch (e) { state.errors.push(spec.id + ': ' + e.message); console.error(e); }
  });
  var timer = null;
  window.addEventListener('resize', function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      plots.forEach(function (p) { p[0].setSize({ width: Math.max(320, Math.min(1100, p[1].clientWidth - 8)), height: 340 }); });
    }, 100);
  });
  state.done = true;
})();
`;
