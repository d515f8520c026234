// Draws the systeemleren charts with Chart.js from the numbers the server embedded in the page.
(function () {
  "use strict";
  var source = document.getElementById("grafiek-data");
  if (!source || !window.Chart) return;
  var charts = JSON.parse(source.textContent);
  var PALETTE = ["#154273", "#b34700", "#007a5a", "#8a3f7a", "#9a6b00", "#2c7fb8", "#5c5c5c"];
  // A status keeps its colour in every chart: the same colours as the badges on the cards.
  var STATUS = { "opgelost": "#007a5a", "lopend": "#9a6b00", "niet opgelost": "#b3261e", "onbekend": "#6b7280" };

  window.Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
  window.Chart.defaults.color = "#1b1b1b";

  charts.forEach(function (spec) {
    var canvas = document.getElementById("grafiek-" + spec.id);
    if (!canvas) return;
    var single = spec.data.datasets.length === 1;
    var datasets = spec.data.datasets.map(function (ds, i) {
      var colour = STATUS[ds.label] || PALETTE[i % PALETTE.length];
      return Object.assign({}, ds, { backgroundColor: colour, borderWidth: 0 });
    });
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.data.labels, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: !single } },
        // A bar opens the list of cases behind it (the same links as the numbers in the table).
        onClick: function (event, elements) {
          var hit = elements && elements[0];
          var link = hit && spec.links && spec.links[hit.datasetIndex] && spec.links[hit.datasetIndex][hit.index];
          if (link) window.location.assign(link);
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements && elements.length ? "pointer" : "default";
        },
        scales: {
          x: { stacked: spec.stacked, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: spec.stacked, beginAtZero: true, ticks: { precision: 0, autoSkip: false } }
        }
      }
    });
    canvas.setAttribute("data-getekend", "ja");
  });
})();
