// Follows a running import: updates the progress bar, reloads the page when it is done.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.getAttribute("data-finished") === "yes") {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("import-bar");
  var text = document.getElementById("import-status");

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        bar.value = run.progress;
        bar.textContent = run.progress + "%";
        if (run.finished) {
          window.location.reload();
          return;
        }
        text.textContent = run.time_left
          ? run.line.replace(/\.$/, ", about " + run.time_left + " to go.")
          : run.line;
        window.setTimeout(poll, 700);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 300);
})();
