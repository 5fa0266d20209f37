// Rumbo — small enhancements; every page works without them.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Ask before deleting.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // Name the area or site under the pointer on the map.
  const map = document.getElementById("map");
  const hover = document.getElementById("map-hover");
  if (map && hover) {
    map.addEventListener("mouseover", (event) => {
      const name = event.target.dataset && event.target.dataset.name;
      if (name) hover.textContent = name;
    });
    map.addEventListener("mouseleave", () => { hover.textContent = ""; });
  }

  // Signing out forgets the form pages kept for offline use (they hold the user's name);
  // submissions still waiting to be sent stay in their outbox.
  const signOut = document.querySelector('form[action="/logout"]');
  if (signOut && window.caches) {
    signOut.addEventListener("submit", (event) => {
      event.preventDefault();
      const done = () => signOut.submit();
      caches.keys()
        .then((keys) => Promise.all(keys.filter((k) => k.indexOf("rumbo-forms-") === 0).map((k) => caches.delete(k))))
        .then(done, done);
    }, { once: true });
  }

  // A new country in the map picker redraws at once.
  const picker = document.getElementById("map-country");
  if (picker) picker.addEventListener("change", () => picker.form.submit());
});
