// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Sortable tables: a button in each header cell; sorts by data-sort, else the cell's text.
  function cellValue(row, index) {
    var cell = row.children[index];
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    var number = parseFloat(raw);
    return raw !== "" && !isNaN(number) && isFinite(raw) ? number : raw.toLowerCase();
  }
  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, index) {
      var button = th.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index), y = cellValue(b, index);
          if (x === y) return 0;
          if (x === "") return 1;   // empty cells last, either way
          if (y === "") return -1;
          return (x < y ? -1 : 1) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  // Target form: show the value or the baseline fields, as the chosen mode needs.
  var modes = document.querySelectorAll("input[name=mode]");
  function showMode() {
    var checked = document.querySelector("input[name=mode]:checked");
    if (!checked) return;
    document.querySelectorAll("[data-mode]").forEach(function (field) {
      field.hidden = field.getAttribute("data-mode") !== checked.value;
    });
  }
  modes.forEach(function (radio) { radio.addEventListener("change", showMode); });
  showMode();

  // Recompute progress: poll the status view until the run is over.
  var box = document.getElementById("recompute-progress");
  if (box) {
    var poll = function () {
      fetch(box.getAttribute("data-status-url"), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          box.querySelector(".state").textContent = s.state;
          var bar = box.querySelector("progress");
          bar.max = s.total; bar.value = s.done;
          box.querySelector(".count").textContent = s.done + " of " + s.total + " tasks";
          if (s.state === "PENDING" || s.state === "STARTED") setTimeout(poll, 1500);
        });
    };
    poll();
  }

  // A background job's page: poll its status, show how far it got and the rows refused so far;
  // reload when it ends (the page then shows the result).
  var job = document.getElementById("job-progress");
  if (job && job.getAttribute("data-finished") === "0") {
    var follow = function () {
      fetch(job.getAttribute("data-status-url"), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.finished) { window.location.reload(); return; }
          job.querySelector(".state").textContent = s.state;
          job.querySelector(".step").textContent = s.step;
          var bar = job.querySelector("progress");
          if (s.total) { bar.max = s.total; bar.value = s.done; }
          job.querySelector(".count").textContent = s.total ? s.done + " of " + s.total : "";
          var list = job.querySelector(".live-errors");
          list.textContent = "";
          s.errors.forEach(function (line) {
            var li = document.createElement("li"); li.textContent = line; list.appendChild(li);
          });
          setTimeout(follow, 1000);
        });
    };
    follow();
  }
})();
