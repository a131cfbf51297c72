// The vendored Leaflet, loaded once per browser page from the app's own static folder (no network). Shared by
// the in-page map (mapview.js) and the Present page's scene (sceneview.js). The measure tool, a plugin of the
// same vendored set, is loaded after Leaflet and is not waited for: the map draws without it and adds it when it comes.

const VENDOR = "/app/static/vendor/";

function addAsset(css, js) {
  // One vendored stylesheet and script; resolves when the script ran.
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = VENDOR + css;
  document.head.appendChild(link);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = VENDOR + js;
    script.onload = resolve;
    script.onerror = reject;
    document.head.appendChild(script);
  });
}

function servedLeaflet() {
  // The page as served asks for Leaflet first thing (layers/app/preview.py): wait for that script rather than ask
  // again; a page without it (or whose copy failed) asks here.
  const tag = document.getElementById("sj-leaflet");
  if (window.L && window.L.map) { return Promise.resolve(); }
  if (!tag || tag.dataset.failed) { return addAsset("leaflet/leaflet.css", "leaflet/leaflet.js"); }
  return new Promise((resolve, reject) => {
    tag.addEventListener("load", resolve);
    tag.addEventListener("error", reject);
  });
}

function loadLeaflet() {
  if (!window.__sjLeaflet) {
    window.__sjLeaflet = servedLeaflet().then(() => window.L);
    window.__sjMeasure = window.__sjLeaflet
      .then(() => addAsset("leaflet-measure/leaflet-measure.css", "leaflet-measure/leaflet-measure.min.js"))
      .then(() => window.L.Control.Measure, () => null);
  }
  return window.__sjLeaflet;
}
