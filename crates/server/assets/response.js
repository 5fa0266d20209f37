// Rumbo — the 5W pages: the upload page's progress bar, and the review queue's "select all".
// The pages work without it. Without it the upload form posts and
// the answer is the page with the result. With it, the file is sent in the background; the
// bar follows the bytes sent, then the server's own progress (reading the workbook,
// checking N of M rows, storing), and the result is shown in place.
"use strict";

// The review queue's "select every row shown" box.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("pick-all");
  const rows = document.getElementById("review-rows");
  if (!all || !rows) return;
  const boxes = () => Array.from(rows.querySelectorAll("tbody input[name='ids']"));
  all.hidden = false;
  all.addEventListener("change", () => {
    for (const box of boxes()) box.checked = all.checked;
  });
  rows.addEventListener("change", (event) => {
    if (event.target === all) return;
    const list = boxes();
    all.checked = list.length > 0 && list.every((b) => b.checked);
  });
});

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  const box = document.getElementById("upload-progress");
  const bar = document.getElementById("upload-bar");
  const phase = document.getElementById("upload-phase");
  if (!form || !box || !bar || !phase || !window.XMLHttpRequest || !window.FormData || !window.crypto) return;

  // Every value the bar took, for whoever wants to see that it moved (the browser test).
  const trail = [];
  const show = (value, text) => {
    const v = Math.max(Number(bar.value) || 0, Math.min(100, Math.round(value)));
    bar.value = v;
    if (trail[trail.length - 1] !== v) trail.push(v);
    bar.dataset.trail = trail.join(",");
    if (text) phase.textContent = text;
  };
  // Where each server phase sits on the bar (sending the file takes the first 40%).
  const place = (report) => {
    const t = bar.dataset[report.phase] || "";
    switch (report.phase) {
      case "receiving": return [0, t];
      case "reading": return [45, t];
      case "checking": {
        const share = report.total > 0 ? report.done / report.total : 0;
        return [50 + 40 * share, report.total > 0 ? `${t} ${report.done} / ${report.total}` : t];
      }
      case "storing": return [92, t];
      case "done": return [100, t];
      default: return [Number(bar.value) || 0, t];
    }
  };
  const token = () => {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  form.addEventListener("submit", (event) => {
    if (!form.elements.file || !form.elements.file.files.length) return;
    event.preventDefault();
    const id = token();
    form.elements.progress.value = id;
    const button = document.getElementById("upload-send");
    if (button) button.disabled = true;
    box.hidden = false;
    bar.value = 0;
    trail.length = 0;
    show(0, bar.dataset.receiving);
    let finished = false;
    let polling = null;
    const poll = () => {
      fetch(`/api/v1/response/uploads/progress/${id}`, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : null))
        .then((report) => {
          if (!report || finished || report.phase === "receiving" || report.phase === "failed") return;
          const [value, text] = place(report);
          show(value, text);
        })
        .catch(() => {});
    };
    const stop = () => {
      finished = true;
      if (polling) window.clearInterval(polling);
      if (button) button.disabled = false;
    };

    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${form.action}?progress=${id}`);
    xhr.responseType = "document";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && e.total > 0) show((40 * e.loaded) / e.total, bar.dataset.receiving);
    });
    xhr.upload.addEventListener("load", () => {
      show(40, bar.dataset.reading);
      if (!polling) polling = window.setInterval(poll, 250);
    });
    polling = window.setInterval(poll, 250);
    xhr.addEventListener("load", () => {
      stop();
      const doc = xhr.response;
      const ok = xhr.status >= 200 && xhr.status < 300;
      if (ok) show(100, bar.dataset.done);
      else phase.textContent = bar.dataset.failed;
      const fresh = doc && doc.getElementById("upload-result");
      const result = document.getElementById("upload-result");
      if (fresh && result) {
        result.replaceWith(document.importNode(fresh, true));
      } else if (doc && result) {
        // Not the upload page (refused outright): show the answer's message.
        const main = doc.querySelector("main");
        result.textContent = main ? main.textContent.trim() : "";
        result.className = "error";
      }
      const past = doc && doc.getElementById("past-uploads");
      const mine = document.getElementById("past-uploads");
      if (past && mine) mine.replaceWith(document.importNode(past, true));
      form.elements.file.value = "";
    });
    xhr.addEventListener("error", () => {
      stop();
      phase.textContent = bar.dataset.lost;
    });
    xhr.send(new FormData(form));
  });
});
