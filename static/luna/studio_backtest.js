// Backtest page: poll the task's progress, reload when it ends.
(function () {
  "use strict";
  const box = document.getElementById("backtest-progress");
  if (!box) return;
  const poll = () => fetch(box.dataset.api, {credentials: "same-origin"}).then((r) => r.json()).then((data) => {
    document.getElementById("backtest-lines").textContent = data.progress;
    document.getElementById("backtest-phase").textContent = data.phase;
    if (data.status === "queued" || data.status === "running") setTimeout(poll, 1000);
    else window.location.reload();
  });
  setTimeout(poll, 1000);
})();
