// Bulk import page: sends the file to the import API, polls the job and draws its report.
// Every text comes from the page (data-texts), in the reader's language.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) return;
  var formId = form.getAttribute("data-form-id");
  var csrf = form.getAttribute("data-csrf");
  var t = {};
  try { t = JSON.parse(form.getAttribute("data-texts") || "{}"); } catch (e) { t = {}; }
  function tr(key) { return t["import." + key] || key; }

  var statusBox = document.getElementById("import-status");
  var bar = document.getElementById("import-progress");
  var phase = document.getElementById("import-phase");
  var errorBox = document.getElementById("import-error");
  var reportBox = document.getElementById("import-report");
  var startButton = document.getElementById("import-start");

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function table(headers, rows) {
    var tbl = el("table", null, "data");
    var head = tbl.createTHead().insertRow();
    headers.forEach(function (h) { head.appendChild(el("th", h)); });
    var body = tbl.createTBody();
    rows.forEach(function (r) {
      var tr = body.insertRow();
      r.forEach(function (cell) { tr.appendChild(el("td", cell === null || cell === undefined ? "" : cell)); });
    });
    return tbl;
  }

  function showError(message) {
    errorBox.hidden = false;
    errorBox.textContent = message;
  }

  function request(method, url, body, headers) {
    var h = headers || {};
    if (csrf) h["X-CSRF-Token"] = csrf;
    return fetch(url, { method: method, body: body, headers: h, credentials: "same-origin" }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (json) {
        if (!r.ok) throw new Error(json.message || (r.status + " " + r.statusText));
        return json;
      });
    });
  }

  function poll(job) {
    request("GET", "/api/v1/imports/" + encodeURIComponent(job)).then(function (s) {
      bar.max = Math.max(s.total, 1);
      bar.value = s.phase === "storing" ? s.stored : s.checked;
      phase.textContent = tr("phase_" + s.phase) + " — " + tr("checked") + " " + s.checked + "/" + s.total +
        (s.stored ? " · " + tr("stored") + " " + s.stored : "");
      if (!s.done) {
        window.setTimeout(function () { poll(job); }, 600);
        return;
      }
      startButton.disabled = false;
      if (s.error) { showError(s.error); return; }
      bar.value = bar.max;
      draw(job, s.report);
    }).catch(function (e) { startButton.disabled = false; showError(e.message); });
  }

  function start(promise) {
    statusBox.hidden = false;
    errorBox.hidden = true;
    reportBox.textContent = "";
    bar.value = 0;
    phase.textContent = "…";
    startButton.disabled = true;
    promise.then(function (r) { poll(r.job); }).catch(function (e) { startButton.disabled = false; showError(e.message); });
  }

  function draw(job, r) {
    reportBox.textContent = "";
    if (r.mode === "dry_run") reportBox.appendChild(el("p", tr("nothing_written"), "notice"));
    if (r.refused) reportBox.appendChild(el("p", tr("refused") + " " + r.refused, "error"));
    var counts = [[tr("rows"), r.rows], [tr("valid"), r.valid], [tr("invalid"), r.invalid]];
    if (r.mode !== "dry_run") counts.push([tr("created"), r.created], [tr("duplicates"), r.duplicates], [tr("skipped"), r.skipped]);
    reportBox.appendChild(table(counts.map(function (c) { return c[0]; }), [counts.map(function (c) { return c[1]; })]));

    if (r.mode === "dry_run") {
      var buttons = el("p", null, "buttons");
      [["all", tr("run_all")], ["valid", tr("run_valid")]].forEach(function (b) {
        var button = el("button", b[1]);
        button.type = "button";
        button.id = "import-run-" + b[0];
        if (b[0] === "all" && r.invalid > 0) button.disabled = true;
        if (r.valid === 0) button.disabled = true;
        button.addEventListener("click", function () {
          start(request("POST", "/api/v1/imports/" + encodeURIComponent(job) + "/commit",
            JSON.stringify({ mode: b[0] }), { "Content-Type": "application/json" }));
        });
        buttons.appendChild(button);
        buttons.appendChild(document.createTextNode(" "));
      });
      reportBox.appendChild(buttons);
    }

    reportBox.appendChild(el("h2", tr("errors")));
    if (r.errors.length === 0) {
      reportBox.appendChild(el("p", tr("no_errors"), "empty"));
    } else {
      reportBox.appendChild(table([tr("row"), tr("column"), tr("field"), tr("message")],
        r.errors.map(function (e) { return [e.row, e.column, e.field, e.message]; })));
      if (r.errors_truncated) reportBox.appendChild(el("p", tr("truncated"), "help"));
    }

    function list(title, items) {
      if (!items || items.length === 0) return;
      reportBox.appendChild(el("h2", title));
      var ul = el("ul");
      items.forEach(function (i) { ul.appendChild(el("li", i)); });
      reportBox.appendChild(ul);
    }
    list(tr("not_importable"), r.not_importable);
    list(tr("unmapped"), r.unmapped_columns);
    list(tr("missing_fields"), r.fields_without_column);

    reportBox.appendChild(el("h2", tr("mapping_used")));
    reportBox.appendChild(table([tr("column"), tr("field"), tr("how")], r.mapping.map(function (m) {
      var field = m.field ? m.field + (m.choice ? " = " + m.choice : "") : "";
      return [m.column, field, m.how + (m.note ? " — " + m.note : "")];
    })));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    data.delete("csrf");
    start(request("POST", "/api/v1/forms/" + encodeURIComponent(formId) + "/imports", data));
  });
})();
