// Dashboards: fetch the panels' figures for the chosen controls, draw them with Plotly, refresh on a timer.
// A click on a point opens the search page for that point (its customdata is the search URL).
(function () {
  const form = document.getElementById("dashboard-controls");
  const panels = document.getElementById("panels");
  const status = document.getElementById("dashboard-status");
  let timer = null;

  function params() {
    const data = new FormData(form);
    const query = new URLSearchParams();
    for (const [key, value] of data.entries()) {
      if (value !== "" && key !== "refresh") query.set(key, value);
    }
    return query;
  }

  function panelBox(entry) {
    let box = document.getElementById("panel-" + entry.index);
    if (!box) {
      box = document.createElement("section");
      box.className = "card panel";
      box.id = "panel-" + entry.index;
      box.innerHTML = '<h2 class="panel-title"></h2><p class="panel-meta muted"></p><div class="panel-chart"></div>';
      panels.appendChild(box);
    }
    return box;
  }

  function draw(entries) {
    panels.querySelectorAll(".panel").forEach((box) => {
      if (+box.id.split("-")[1] >= entries.length) box.remove();
    });
    for (const entry of entries) {
      const box = panelBox(entry);
      box.querySelector(".panel-title").textContent = entry.title;
      const meta = box.querySelector(".panel-meta");
      const chart = box.querySelector(".panel-chart");
      if (entry.error) {
        meta.textContent = "Cannot draw: " + entry.error;
        continue;
      }
      const p = entry.provisional || {};
      const source = {rollups: "rollups", facts: "session fact table", fields: "key-value field rows"}[entry.source] || entry.source;
      meta.textContent = "From the " + source + " (" + entry.reason + "). Provisional: " +
        (p.open_sessions || 0) + " open sessions counted, " + (p.settling || 0) + " revisions settling.";
      Plotly.react(chart, entry.figure.data, entry.figure.layout, {displaylogo: false, responsive: true});
      if (!chart.dataset.clicks) {
        chart.dataset.clicks = "1";
        chart.on("plotly_click", (event) => {
          const url = event.points && event.points[0] && event.points[0].customdata;
          if (url) window.location.href = url;
        });
      }
    }
  }

  async function load() {
    const query = params();
    history.replaceState(null, "", "?" + query.toString());
    status.textContent = "Loading…";
    try {
      const response = await fetch(form.dataset.api + "?" + query.toString(), {headers: {Accept: "application/json"}});
      const body = await response.json();
      if (!response.ok) {
        status.textContent = "Error: " + JSON.stringify(body);
        return;
      }
      draw(body);
      status.textContent = "Updated " + new Date().toLocaleTimeString();
    } catch (error) {
      status.textContent = "Error: " + error;
    }
  }

  function schedule() {
    if (timer) clearInterval(timer);
    const seconds = +form.elements.refresh.value;
    if (seconds > 0) timer = setInterval(load, seconds * 1000);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
    schedule();
  });
  form.elements.refresh.addEventListener("change", schedule);
  load();
  schedule();
})();
