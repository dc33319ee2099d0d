// Jobs page: buttons queue a Celery task through fetch, its progress is polled and shown above the table,
// and the table refreshes itself. Without JavaScript the forms post normally and the page shows the task.
(function () {
  "use strict";
  const tasks = document.getElementById("job-tasks");
  const table = document.getElementById("jobs-table");
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  async function refreshTable() {
    const response = await fetch(window.location.pathname, { headers: { "X-Requested-With": "fetch" } });
    if (!response.ok) return;
    const html = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = html.querySelector("#jobs-table tbody");
    if (fresh) table.tBodies[0].replaceWith(fresh);
  }

  function show(item, status) {
    item.querySelector(".state").textContent = status.state;
    item.querySelector(".state").className = "badge state task-" + status.state.toLowerCase();
    item.querySelector(".step").textContent = status.step || (status.result ? JSON.stringify(status.result) : "");
    if (status.error) {
      const pre = item.querySelector("pre") || item.appendChild(document.createElement("pre"));
      pre.className = "code";
      pre.textContent = status.error + "\n" + (status.traceback || "");
    }
  }

  async function follow(item, statusUrl) {
    for (;;) {
      const response = await fetch(statusUrl, { headers: { Accept: "application/json" } });
      const status = await response.json();
      show(item, status);
      if (status.done) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await refreshTable();
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form.job-action");
    if (!form) return;
    event.preventDefault();
    const [template, action] = form.action.split("/").filter(Boolean).slice(-2);
    const item = document.createElement("li");
    item.innerHTML = '<strong></strong> <span class="badge state">QUEUED</span> <span class="step"></span>';
    item.querySelector("strong").textContent = decodeURIComponent(template) + " · " + action;
    tasks.prepend(item);
    form.querySelector("button").disabled = true;
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), headers: { Accept: "application/json", "X-CSRFToken": csrf() },
    });
    if (!response.ok) {
      show(item, { state: "REFUSED", step: response.status + " " + response.statusText });
      return;
    }
    const queued = await response.json();
    item.dataset.task = queued.task_id;
    follow(item, queued.status_url);
  });

  setInterval(refreshTable, 5000);
})();
