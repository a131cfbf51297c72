// The Map page's preview (layers/app/preview.py): run while the served page is parsed, before Streamlit's own code.
// When this browser drew the Map page at this very address, window size and data version before, the map it drew
// then (saved by mapview.js: spec, layers on, filter, view, place on the page) is drawn again at once, still and
// unclickable, where the map will appear; the in-page map removes it once it has drawn itself (or after 10 s).
// Python puts leaflet_layers.js before this file, both inside one function, and Leaflet's script before it.

function sjPreview() {
  let snap = null;
  try { snap = JSON.parse(window.localStorage.getItem("sj-preview:" + location.pathname) || "null"); } catch (e) { return; }
  if (!snap || !window.L || !window.__sjData || snap.version !== window.__sjData || snap.search !== window.__sjLoad.search
      || snap.path !== window.location.pathname || snap.size !== window.innerWidth + "x" + window.innerHeight
      || document.querySelector(".sj-map-root[data-drawn]")) { return; }  // (the live map came first: no preview)
  const L = window.L;
  const box = document.createElement("div");
  box.id = "sj-preview";
  box.setAttribute("aria-hidden", "true");  // a picture of the map to come; the map itself is what is read
  const [left, top, width, height] = snap.rect;
  box.style.cssText = "position:absolute;z-index:100;pointer-events:none;background:#f4f4f2;left:" + left + "px;top:"
    + top + "px;width:" + width + "px;height:" + height + "px";
  document.body.appendChild(box);
  const map = L.map(box, { zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false,
    doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, zoomSnap: 1 });
  map.setView(snap.center, snap.zoom, { animate: false });
  (snap.spec.tiles || []).forEach((t) => L.tileLayer(t.url, { subdomains: t.subdomains, maxZoom: t.maxZoom }).addTo(map));
  const chosen = {};
  Object.keys(snap.chosen || {}).forEach((k) => { if (snap.chosen[k].length) { chosen[k] = new Set(snap.chosen[k]); } });
  const on = new Set(snap.on || []);
  const groups = {};
  snap.spec.layers.forEach((entry) => {
    if (!on.has(entry.key)) { return; }
    const group = buildLayer(L, entry);
    showPassing(layerSubs(group), (snap.spec.filter || {})[entry.key], chosen);
    group.addTo(map);
    groups[entry.key] = group;
  });
  (snap.spec.z_order || []).forEach((key) => { if (groups[key]) { groups[key].bringToFront(); } });
  performance.mark("sj-preview");
  setTimeout(() => box.remove(), 10000);
}

function sjPreviewSafely() {
  try { sjPreview(); } catch (e) {
    const box = document.getElementById("sj-preview");
    if (box) { box.remove(); }  // a preview that cannot be drawn is no preview; the map itself follows as usual
  }
}

window.__sjLoad = { path: window.location.pathname, search: window.location.search };  // the address as opened
if (window.L && window.L.map) { sjPreviewSafely(); } else {
  const tag = document.getElementById("sj-leaflet");  // asked for first in the page's head (preview.py)
  if (tag) { tag.addEventListener("load", sjPreviewSafely); }
}
