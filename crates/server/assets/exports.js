// Exports page: while an export is queued or running, asks the API for its progress every
// few seconds and moves its bar; when one changes status, reloads the page (for the
// download link).
(function () {
  "use strict";
  var rows = document.querySelectorAll("tr[data-active]");
  if (!rows.length) return;
  function size(bytes) {
    if (bytes >= 1e9) return (bytes / 1e9).toFixed(1) + " GB";
    if (bytes >= 1e6) return (bytes / 1e6).toFixed(1) + " MB";
    if (bytes >= 1e3) return Math.round(bytes / 1e3) + " kB";
    return bytes + " B";
  }
  function poll() {
    var pending = [];
    rows.forEach(function (row) {
      var id = row.getAttribute("data-active");
      pending.push(fetch("/api/v1/exports/" + encodeURIComponent(id), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) return true;
          row.querySelector("[data-progress]").value = job.percent;
          row.querySelector("[data-rows]").textContent =
            job.rows_done + (job.rows_total === null ? "" : " / " + job.rows_total);
          row.querySelector("[data-size]").textContent = size(job.bytes_written);
          return job.status !== row.getAttribute("data-status");
        })
        .catch(function () { return false; }));
    });
    Promise.all(pending).then(function (changed) {
      if (changed.some(Boolean)) { window.location.reload(); } else { window.setTimeout(poll, 3000); }
    });
  }
  window.setTimeout(poll, 2000);
})();
