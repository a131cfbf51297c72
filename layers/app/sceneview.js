// The Present page's scene (Streamlit Components v2), drawn in the page with the vendored Leaflet (leaflet_loader.js
// and leaflet_layers.js, put before this module by layers/app/sceneview.py). Python reads the scene off its folium
// map (scenes/web.py scene_spec): the same layers and styles, legend, names, note and bounds as the offline page,
// whose chrome script (layers/scenes/chrome.py) this follows, scoped to the scene's own element instead of a
// document of its own.
// A new scene (previous/next) is drawn into the same map: its layers go on before the old ones come off, in one
// frame, so the screen never shows an empty map. Every text was escaped on the server and is inserted as such.

const SCENE_KEYS = { ArrowRight: "next", PageDown: "next", " ": "next", Spacebar: "next", ArrowLeft: "prev",
  PageUp: "prev", Home: "first", End: "last" };
// Two px to spare: a name's box can move by a fraction of a pixel once the page settles (fonts, zoom).
const GAP = 2;
// An area's name tries its centre, then small shifts (like the printed page).
const AREA_SHIFTS = ["translate(-50%,-50%)", "translate(-50%,50%)", "translate(-50%,-150%)", "translate(0,-50%)",
  "translate(-100%,-50%)", "translate(-50%,150%)", "translate(-50%,-250%)"];

function overlaps(a, b) {
  return !(a.right + GAP <= b.left || a.left >= b.right + GAP || a.bottom + GAP <= b.top || a.top >= b.bottom + GAP);
}

function pointSlot(node, i) {
  // A point's name beside its marker: right, left, above, below, then the corners.
  const gap = (parseFloat(node.dataset.r) || 0) + 3;
  node.style.transform = ["translate(" + gap + "px,-50%)", "translate(calc(-100% - " + gap + "px),-50%)",
    "translate(-50%,calc(-100% - " + gap + "px))", "translate(-50%," + gap + "px)", "translate(" + gap + "px,-100%)",
    "translate(calc(-100% - " + gap + "px),-100%)", "translate(" + gap + "px,0)",
    "translate(calc(-100% - " + gap + "px),0)"][i];
}

function plainText(escaped) {
  // A text escaped on the server, as an attribute's plain value (a textarea decodes entities and runs nothing).
  const area = document.createElement("textarea");
  area.innerHTML = escaped;
  return area.value;
}

function chrome(st, c) {
  // Title (shown in full screen), legend, note, north arrow and the full-screen button, rebuilt for each scene.
  st.title.innerHTML = "";
  el("h1", "", st.title).innerHTML = c.title;
  el("p", "", st.title).innerHTML = c.subtitle;
  st.overlay.forEach((node) => node.remove());
  const legend = el("div", "sj-legend");
  const details = el("details", "", legend);
  details.open = true;
  const legendSpec = st.data.spec.map.legend;
  if (legendSpec) {
    el("summary", "", details).innerHTML = legendSpec.title;
    el("div", "sj-legend-body", details).innerHTML = legendSpec.html;
  }
  const note = el("details", "sj-panel sj-note");
  note.open = true;
  const summary = el("summary", "", note);
  el("span", "sj-long", summary).innerHTML = c.noteTitle;
  el("span", "sj-short", summary).innerHTML = c.noteShort;
  el("div", "", note).innerHTML = c.note;
  const north = el("div", "sj-panel sj-north");
  north.title = plainText(c.north);
  north.innerHTML = c.arrow;
  el("div", "", north).innerHTML = c.north;
  const present = el("button", "sj-present");
  present.type = "button";
  present.title = plainText(c.presentHint);
  present.addEventListener("click", (e) => { e.preventDefault(); toggleFull(); });
  st.overlay = [legendSpec ? legend : null, c.note ? note : null, north, present].filter(Boolean);
  const box = st.map.getContainer();
  st.overlay.forEach((node) => {
    box.appendChild(node);
    window.L.DomEvent.disableClickPropagation(node);
    window.L.DomEvent.disableScrollPropagation(node);
  });
  st.note = c.note ? note : null;
  st.legend = legendSpec ? details : null;
  st.present = present;
  syncPresentButton(st);
}

function syncPresentButton(st) {
  if (st.present) { st.present.innerHTML = document.fullscreenElement ? st.data.spec.chrome.presentExit : st.data.spec.chrome.present; }
}

function toggleFull() {
  // The whole page goes full screen (the scene element then covers it), so a rerun to the next scene stays there.
  if (document.fullscreenElement) { document.exitFullscreen(); return; }
  const target = document.documentElement;
  if (target.requestFullscreen) { target.requestFullscreen().catch(() => {}); }
}

function foldNote(st) {
  // Fold the note into a small button when the window is short (a projector at 768 px or less); a phone shows the
  // map first, its legend opens with a tap.
  // The scene's own size decides, as the folium page's window (its frame) did.
  const c = st.data.spec.chrome;
  const width = st.root.clientWidth, height = st.root.clientHeight;
  if (st.note) { st.note.open = height >= c.foldBelow && width > 640; }
  if (st.legend) { st.legend.open = width > 640; }
}

function fit(st) {
  // The scene's bounds with padding in proportion to the map, so a narrow phone never gets a negative size.
  const size = st.map.getSize();
  if (!size.x || !size.y) { return; }
  st.map.fitBounds(st.bounds, { paddingTopLeft: [size.x * 0.04, size.y * 0.04],
    paddingBottomRight: [size.x * 0.04, size.y * 0.04], animate: false });
}

function spareFocus(st) {
  // An open note never covers the scene's focus (the district, or the town of a close-up): where it would, it
  // folds into its button, which a tap opens.
  if (!st.note || !st.note.open) { return; }
  const frame = st.map.getContainer().getBoundingClientRect();
  const n = st.note.getBoundingClientRect();
  const nw = st.map.latLngToContainerPoint(st.bounds.getNorthWest());
  const se = st.map.latLngToContainerPoint(st.bounds.getSouthEast());
  const clear = n.right <= frame.left + nw.x || n.left >= frame.left + se.x ||
    n.bottom <= frame.top + nw.y || n.top >= frame.top + se.y;
  if (!clear) { st.note.open = false; }
}

function fitFrame(st) {
  // The scene takes the height left below it in the window (never less than a phone's map needs).
  if (document.fullscreenElement) { return; }
  const c = st.data.spec.chrome;
  const main = st.root.closest("[data-testid=stMain]");
  const top = st.root.getBoundingClientRect().top + window.scrollY + (main ? main.scrollTop : 0);
  const spare = window.innerWidth <= 640 ? 0 : c.bottomGap;
  const height = Math.max(c.minHeight, Math.floor(window.innerHeight - top - spare));
  if (Math.abs(st.root.offsetHeight - height) > 1) { st.root.style.height = height + "px"; }
}

function under(st, x, y) {
  // The scene's drawn paths at a point: fills of areas, and whether a line or a marker ("ink") is there.
  const fills = [];
  let ink = false;
  document.elementsFromPoint(x, y).forEach((node) => {
    if (node.tagName !== "path" || !st.pane.contains(node)) { return; }
    const kind = node.getAttribute("data-sj-ink");
    if (kind === "1") { ink = true; } else if (kind !== "ring") { fills.push(node); }
  });
  return { fills, ink };
}

function badSpot(st, r, area) {
  // A name may not cross a line or a marker; an area's name must also lie within one area (so it never sits on an
  // outline such as the district edge): every sampled point sees the same fills as the centre.
  const centre = under(st, (r.left + r.right) / 2, (r.top + r.bottom) / 2);
  const xs = [r.left + 1, (r.left + r.right) / 2, r.right - 1];
  const ys = [r.top + 1, (r.top + r.bottom) / 2, r.bottom - 1];
  for (const x of xs) {
    for (const y of ys) {
      const here = under(st, x, y);
      if (here.ink) { return true; }
      if (area && (here.fills.length !== centre.fills.length || here.fills.some((f, n) => f !== centre.fills[n]))) {
        return true;
      }
    }
  }
  return false;
}

function markInk(st) {
  // A path is "ink" when it is a line or a point marker (no fill, or a small closed shape); an uncertainty ring is
  // neither ink nor an area, so a name may sit on it.
  st.pane.querySelectorAll("path").forEach((p) => {
    const fill = p.getAttribute("fill");
    const r = p.getBoundingClientRect();
    const point = r.width < 30 && r.height < 30;
    const ring = fill === "#888888" && p.getAttribute("stroke-dasharray") === "4 4";
    p.setAttribute("data-sj-ink", ring ? "ring" : (fill === "none" || point) ? "1" : "0");
  });
}

function declutter(st) {
  // Keep the names that fit, best ranked first; the rest hide until a zoom makes room (like the printed map).
  const box = st.map.getContainer();
  const frame = box.getBoundingClientRect();
  if (!frame.width || !frame.height) { return; }
  box.classList.add("sj-measuring");
  const taken = [];
  st.root.querySelectorAll(".sj-panel, .sj-legend, .leaflet-control, .sj-present").forEach((node) => {
    const r = node.getBoundingClientRect();
    if (r.width && r.height) { taken.push(r); }
  });
  markInk(st);
  const labels = Array.from(box.querySelectorAll(".sj-label"));
  // Names are sized in viewport units; their size is fixed in pixels here, so a later change of the frame's height
  // cannot grow a placed name into its neighbour before the names are placed again.
  labels.forEach((node) => { node.style.visibility = "hidden"; node.style.fontSize = ""; });
  const sizes = labels.map((node) => getComputedStyle(node).fontSize);
  labels.forEach((node, i) => { node.style.fontSize = sizes[i]; });
  labels.sort((a, b) => a.dataset.rank - b.dataset.rank);
  labels.forEach((node) => {
    const point = node.classList.contains("sj-label-point");
    const slots = point ? 8 : AREA_SHIFTS.length;
    for (let i = 0; i < slots; i++) {
      if (point) { pointSlot(node, i); } else { node.style.transform = AREA_SHIFTS[i]; }
      const r = node.getBoundingClientRect();
      const inside = r.left >= frame.left && r.right <= frame.right && r.top >= frame.top && r.bottom <= frame.bottom;
      if (inside && !badSpot(st, r, !point) && !taken.some((t) => overlaps(r, t))) {
        taken.push(r);
        node.style.visibility = "visible";
        return;
      }
    }
  });
  // Check what was placed, measured again as it now stands: a name that touches a better-ranked one hides.
  const shown = [];
  labels.forEach((node) => {
    if (node.style.visibility !== "visible") { return; }
    const r = node.getBoundingClientRect();
    if (shown.some((t) => overlaps(r, t))) { node.style.visibility = "hidden"; } else { shown.push(r); }
  });
  box.classList.remove("sj-measuring");
  st.root.setAttribute("data-sj-placed", String(Date.now()));
}

function settle(st) {
  // Names are sized in viewport units: when the scene changes size (the window, full screen) they grow or
  // shrink, so the scene is fitted and the names placed again once the size has settled.
  clearTimeout(st.settleTimer);
  st.settleTimer = setTimeout(() => { fit(st); declutter(st); }, 120);
}

function onSceneResize(st) {
  // The scene changed size (the window, the page's fit, full screen): what the folium page did on its frame's
  // resize, then the names once the size has settled.
  foldNote(st);
  st.map.invalidateSize(false);
  fit(st);
  spareFocus(st);
  settle(st);
}

function syncFull(st) {
  document.documentElement.classList.toggle("sj-fs", !!document.fullscreenElement);
  syncPresentButton(st);
  fitFrame(st);
}

function onKey(e) {
  // Presenter mode: a clicker's keys walk the scenes through the page's own buttons (so the URL follows); F goes
  // full screen, Esc leaves it. Keys typed into a field are the field's. (Each scene element listens through its own
  // closure, so one element's cleanup never removes another's listener.)
  const target = e.target;
  if (e.altKey || e.ctrlKey || e.metaKey) { return; }
  if (target && (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable)) { return; }
  if (e.key === "Escape") { if (document.fullscreenElement) { document.exitFullscreen(); } return; }
  if (e.key === "f" || e.key === "F") { toggleFull(); e.preventDefault(); return; }
  const action = SCENE_KEYS[e.key];
  if (!action) { return; }
  e.preventDefault();
  e.stopPropagation();
  const button = document.querySelector(".st-key-pres_" + action + " button");
  if (button && !button.disabled) { button.click(); }
}

function setup(L, root, data) {
  root.innerHTML = "";
  const st = { root, data, layers: [], labels: null, overlay: [] };
  st.title = el("div", "sj-panel sj-title", root);
  const mapDiv = el("div", "sj-scene-map", root);
  fitFrame(st);
  const o = data.spec.options || {};
  st.map = L.map(mapDiv, { zoomControl: false, attributionControl: !!o.attributionControl, preferCanvas: false,
    zoomSnap: o.zoomSnap, zoomDelta: o.zoomDelta, zoomAnimation: o.zoomAnimation !== false,
    keyboard: !!o.keyboard });
  L.control.zoom({ position: "topleft", zoomInTitle: data.texts.zoom_in, zoomOutTitle: data.texts.zoom_out }).addTo(st.map);
  L.control.scale({ imperial: false }).addTo(st.map);
  st.pane = st.map.getPanes().overlayPane;
  st.map.on("zoomend moveend resize", () => declutter(st));
  if (window.ResizeObserver) {
    st.observer = new ResizeObserver(() => { if (st.token) { onSceneResize(st); } });
    st.observer.observe(root);
  }
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(() => settle(st)); }
  st.listeners = [[window, "resize", () => fitFrame(st)], [document, "fullscreenchange", () => syncFull(st)],
    [document, "keydown", (e) => onKey(e), true]];
  document.documentElement.classList.toggle("sj-fs", !!document.fullscreenElement);
  st.listeners.forEach(([target, name, fn, capture]) => target.addEventListener(name, fn, !!capture));
  root.__sjScene = st;
  return st;
}

function draw(L, root, data) {
  const st = root.__sjScene || setup(L, root, data);
  st.data = data;
  if (st.token === data.spec.token) { return; }  // a rerun with the same scene keeps the presenter's view
  st.token = data.spec.token;
  const c = data.spec.chrome;
  st.bounds = L.latLngBounds(c.bounds);
  // The new scene's layers and names go on first, then the old ones come off: one frame, never an empty map.
  if (!st.map._loaded) { st.map.fitBounds(st.bounds, { animate: false }); }  // a first view, never NaN
  const old = st.layers.concat(st.labels ? [st.labels] : []);
  st.layers = data.spec.map.layers.map((entry) => buildLayer(L, entry, true).addTo(st.map));
  st.labels = L.layerGroup(c.labels.map((l) => L.marker([l.lat, l.lon], { interactive: false, keyboard: false,
    icon: L.divIcon({ className: "sj-anchor", iconSize: [0, 0], html: l.html }) }))).addTo(st.map);
  old.forEach((layer) => st.map.removeLayer(layer));
  chrome(st, c);
  fitFrame(st);
  foldNote(st);
  st.map.invalidateSize(false);
  fit(st);
  spareFocus(st);
  declutter(st);
  setTimeout(() => { fitFrame(st); st.map.invalidateSize(false); settle(st); }, 200);
  root.dataset.drawn = "1";
}

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector(".sj-scene");
  loadLeaflet().then((L) => draw(L, root, data)).catch((err) => {
    root.textContent = (data.texts && data.texts.failed) || String(err);
    root.dataset.failed = "1";
  });
  return () => {
    // Leaving the page: the keys, the window's resize and full screen are the scene's no longer.
    const st = root.__sjScene;
    if (!st) { return; }
    st.listeners.forEach(([target, name, fn, capture]) => target.removeEventListener(name, fn, !!capture));
    if (st.observer) { st.observer.disconnect(); }
    clearTimeout(st.settleTimer);
    if (!document.fullscreenElement) { document.documentElement.classList.remove("sj-fs"); }
  };
}
