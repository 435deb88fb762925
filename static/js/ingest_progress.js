// Live progress of one ingest: polls the ingest API every second until the job has finished,
// then reloads the page once so the server renders totals, warnings and errors.
(function () {
  "use strict";

  var box = document.getElementById("ingest-progress");
  if (!box || box.dataset.finished === "true") {
    return;
  }
  var bar = box.querySelector("progress");
  var text = document.getElementById("ingest-progress-text");
  var badge = document.getElementById("ingest-status");
  var finished = ["loaded", "rejected", "failed"];
  var numbers = new Intl.NumberFormat("en-US");

  function show(body) {
    var label = numbers.format(body.rows_done) + " rows";
    if (body.rows_expected) {
      var percent = Math.min(100, Math.floor((body.rows_done * 100) / body.rows_expected));
      bar.value = percent;
      label = percent + "% " + numbers.format(body.rows_done) + " of " +
        numbers.format(body.rows_expected) + " rows";
    } else {
      bar.removeAttribute("value");
    }
    text.textContent = label;
    badge.textContent = body.status.charAt(0).toUpperCase() + body.status.slice(1);
    badge.className = "status status--" + body.status;
  }

  function poll() {
    fetch(box.dataset.apiUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        show(body);
        if (finished.indexOf(body.status) >= 0) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        // A missed poll (a restart, a network blip) is retried; the page stays usable.
        window.setTimeout(poll, 3000);
      });
  }

  window.setTimeout(poll, 1000);
})();
