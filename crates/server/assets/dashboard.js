// Keeps an open dashboard up to date: on every `update` event of the aggregates stream,
// the figures are fetched again (this page's address with `partial=1`) and swapped in.
(function () {
  "use strict";
  var body = document.getElementById("dashboard-body");
  var status = document.getElementById("live-status");
  if (!body || !window.EventSource) { return; }
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var url = new URL(window.location.href);
    url.searchParams.set("partial", "1");
    fetch(url.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        body.innerHTML = html;
        if (status) { status.dataset.updated = new Date().toISOString(); status.classList.add("fresh"); setTimeout(function () { status.classList.remove("fresh"); }, 800); }
      })
      .catch(function () { /* the next event tries again */ })
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var source = new EventSource(body.dataset.stream);
  source.addEventListener("update", refresh);
  source.onerror = function () { if (status) { status.classList.add("offline"); } };
  source.onopen = function () { if (status) { status.classList.remove("offline"); } };
}());
