// The search page's duration histogram: log-spaced bins computed by the server, drawn with the bundled plotly.js.
(function () {
  const data = document.getElementById("duration-histogram-data");
  const target = document.getElementById("duration-histogram");
  if (!data || !target || !window.Plotly) return;
  const h = JSON.parse(data.textContent);
  const label = (ms) => ms < 1000 ? `${ms} ms` : ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : ms < 3600000 ? `${(ms / 60000).toFixed(1)} min` : `${(ms / 3600000).toFixed(1)} h`;
  const x = h.counts.map((_, i) => `${label(h.edges_ms[i])} – ${label(h.edges_ms[i + 1])}`);
  window.Plotly.newPlot(target, [{type: "bar", x: x, y: h.counts, marker: {color: "#3b6fb6"}, hovertemplate: "%{x}: %{y} sessions<extra></extra>"}],
    {margin: {t: 10, r: 10, b: 80, l: 50}, height: 260, xaxis: {tickangle: -40}, yaxis: {title: "sessions"}},
    {displayModeBar: false, responsive: true});
})();
