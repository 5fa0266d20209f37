// Rumbo — the public service directory's "use my location" button. The page works without
// it: the coordinates can be typed, or an area chosen.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("use-location");
  const lat = document.getElementById("lat");
  const lon = document.getElementById("lon");
  const failed = document.getElementById("location-failed");
  if (!button || !lat || !lon || !navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        lat.value = position.coords.latitude.toFixed(5);
        lon.value = position.coords.longitude.toFixed(5);
        button.form.submit();
      },
      () => {
        button.disabled = false;
        if (failed) failed.hidden = false;
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 },
    );
  });
});
