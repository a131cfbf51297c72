// The in-page map (Streamlit Components v2): Leaflet, loaded once from the app's own static folder, draws the
// spec that Python reads off the folium map (layers/map/spec.py). A rerun with new data updates the layers in
// place (a layer whose data hash is unchanged is kept; a changed one is swapped in before the old one goes), so
// the map never blanks and the user's view is kept. Pan and zoom send nothing to the server: the view goes into
// the address (c=lat,lon & z=zoom) and the session's storage. Layer toggles, clicks and the first paint are
// reported back (setStateValue / setTriggerValue, which rerun the script). Every feature is in the spec; the filter
// (the sidebar's or the map's own) is applied here from the spec's filter index, so a change made in the map is
// drawn at once, and the rerun it causes brings the same spec (nothing to redraw). The Leaflet loader (leaflet_loader.js)
// and the layer drawing it shares with the Present page's scene (leaflet_layers.js) come before this module.
// Every text shown comes from Python (data.texts) and was escaped there; feature attributes were escaped on the
// server (layers.map.elements.safe_text) and are inserted as such.
// Performance marks (sj-mount, sj-leaflet, sj-chrome, sj-layers, sj-rendered, sj-labels) split a first draw for
// the bench and for anyone looking at a slow page in the browser's performance panel.

function roundView(map) {
  const c = map.getCenter();
  return { c: c.lat.toFixed(5) + "," + c.lng.toFixed(5), z: String(map.getZoom()) };
}

function writeViewToAddress(map) {
  const view = roundView(map);
  try {
    const url = new URL(window.location.href);
    if (url.searchParams.get("c") === view.c && url.searchParams.get("z") === view.z) { return view; }
    url.searchParams.set("c", view.c);
    url.searchParams.set("z", view.z);
    window.history.replaceState(window.history.state, "", url.toString());
  } catch (e) { /* an address that cannot be rewritten changes nothing on the map */ }
  return view;
}

function labelLayer(L, map, labels, hidden) {
  // Town names always, station names from a zoom level on, none for a feature the filter hides; a label that would
  // cover one already placed is hidden.
  const group = L.layerGroup();
  const markers = (labels || []).map((lab) => {
    const icon = L.divIcon({ className: "sj-label sj-label-" + lab.kind, html: lab.text, iconSize: null });
    const marker = L.marker([lab.lat, lab.lon], { icon, interactive: false, keyboard: false });
    marker.minZoom = lab.minZoom || 0;
    marker.priority = lab.priority || 0;
    marker.feature = [lab.layer, lab.id];
    return marker;
  });
  markers.sort((a, b) => b.priority - a.priority);
  const place = () => {
    // Add, then measure every label (one layout), then hide the ones that would cover a label already placed.
    const zoom = map.getZoom();
    const shown = markers.filter((m) => {
      if (zoom < m.minZoom || hidden(m.feature[0], m.feature[1])) { group.removeLayer(m); return false; }
      group.addLayer(m);
      return true;
    });
    const boxes = shown.map((m) => { const node = m.getElement(); return node ? node.getBoundingClientRect() : null; });
    const taken = [];
    shown.forEach((m, i) => {
      const node = m.getElement();
      const box = boxes[i];
      if (!node || !box) { return; }
      const hit = taken.some((t) => !(box.right < t.left || box.left > t.right || box.bottom < t.top || box.top > t.bottom));
      node.style.visibility = hit ? "hidden" : "visible";
      if (!hit) { taken.push(box); }
    });
  };
  group.place = place;
  return group;
}

function layerControl(st, data, setStateValue) {
  const box = el("details", "sj-box sj-layers", st.layerSlot);
  const compact = data.compact || window.innerWidth < 800;
  // Open on a wide screen at first; after that as the user left it (a rerun rebuilds the list).
  box.open = st.layersOpen !== undefined ? st.layersOpen : (!compact && window.innerWidth >= 1500);
  box.addEventListener("toggle", () => { st.layersOpen = box.open; });
  el("summary", "", box).textContent = data.texts.layers;
  const byGroup = {};
  data.spec.layers.forEach((entry) => {
    if (entry.key === "focus") { return; }  // the search/town outline is not a layer of its own
    (byGroup[entry.group] = byGroup[entry.group] || []).push(entry);
  });
  Object.keys(byGroup).forEach((gid) => {
    const title = el("div", "sj-group", box);
    title.textContent = data.spec.groups[gid] || data.texts.mine;
    byGroup[gid].forEach((entry) => {
      const row = el("label", "sj-row", box);
      const check = el("input", "", row);
      check.type = "checkbox";
      check.checked = st.visible.has(entry.key);
      check.dataset.layer = entry.key;
      el("span", "", row).innerHTML = entry.titleHtml;
      check.addEventListener("change", () => {
        if (check.checked) { st.visible.add(entry.key); } else { st.visible.delete(entry.key); }
        applyVisibility(st);
        if (!data.readonly) {
          setStateValue("layers", { on: Array.from(st.visible), view: roundView(st.map), at: Date.now() });
        }
      });
    });
  });
  return box;
}

function hiddenByFilter(st, layer, id) {
  const index = (st.data.spec.filter || {})[layer];
  return Boolean(index && id !== null && id !== undefined && index[id] && !passes(index[id], st.chosen));
}

function filterItem(st, key, item) {
  showPassing(item.subs, (st.data.spec.filter || {})[key], st.chosen);
}

function applyFilter(st) {
  Object.keys(st.layers).forEach((key) => filterItem(st, key, st.layers[key]));
  applyVisibility(st);  // shapes put back go to the top of the map: the layers' order is restored
  if (st.labels && st.labelsPlaced) { st.labels.place(); }
  filterLegend(st);
}

function filterLegend(st) {
  // A legend row whose features the filter all leaves out is hidden (the row names them: data-layer, data-ids).
  st.legendSlot.querySelectorAll(".sj-legend-row[data-ids]").forEach((row) => {
    const ids = row.dataset.ids.split(" ");
    const shown = ids.some((id) => !hiddenByFilter(st, row.dataset.layer, id));
    row.style.display = shown ? "" : "none";
  });
}

function filterLists(chosen) {
  const out = {};
  Object.keys(chosen).forEach((k) => { out[k] = Array.from(chosen[k]); });
  return out;
}

function syncFilterBox(st, data) {
  const box = st.filterBox;
  if (!box) { return; }
  let n = 0;
  box.querySelectorAll("input[data-filter]").forEach((check) => {
    check.checked = Boolean(st.chosen[check.dataset.filter] && st.chosen[check.dataset.filter].has(check.value));
    if (check.checked) { n += 1; }
  });
  box.querySelector("summary").textContent = data.texts.filters + (n ? " (" + n + ")" : "");
}

function filterControl(st, data, setStateValue) {
  // The in-map filter: a change is drawn at once from the spec's filter index, then reported to Python (URL, count,
  // sidebar and download follow). Built once per set of options, so its scroll and open state survive reruns.
  const ui = (data.filters && data.filters.ui) || [];
  const key = JSON.stringify(ui) + data.texts.filters;
  if (st.filterKey === key) { syncFilterBox(st, data); return; }
  st.filterKey = key;
  st.filterSlot.innerHTML = "";
  st.filterBox = null;
  if (!ui.length) { return; }
  const box = el("details", "sj-box sj-filters", st.filterSlot);
  st.filterBox = box;
  el("summary", "", box);
  const changed = () => {
    syncFilterBox(st, st.data);
    applyFilter(st);
    st.filterAt = Date.now();
    if (!st.data.readonly) {
      setStateValue("filters", { values: filterLists(st.chosen), view: roundView(st.map), at: st.filterAt });
    }
  };
  ui.forEach(([fkey, title, options]) => {
    el("div", "sj-fgroup", box).textContent = title;
    options.forEach(([value, label]) => {
      const row = el("label", "sj-row", box);
      const check = el("input", "", row);
      check.type = "checkbox";
      check.dataset.filter = fkey;
      check.value = value;
      el("span", "", row).textContent = label;
      check.addEventListener("change", () => {
        const chosen = st.chosen[fkey] = st.chosen[fkey] || new Set();
        if (check.checked) { chosen.add(value); } else { chosen.delete(value); }
        changed();
      });
    });
  });
  const clear = el("button", "sj-button sj-clear", box);
  clear.type = "button";
  clear.textContent = data.texts.clear;
  clear.addEventListener("click", () => { st.chosen = {}; changed(); });
  syncFilterBox(st, data);
}

function takeFilter(st, data) {
  // The server's filter, unless the map changed it since and the server has not seen that change yet.
  const f = data.filters;
  if (!f) { st.chosen = {}; return; }
  if (st.filterAt && f.at !== st.filterAt) { return; }
  st.filterAt = null;
  st.chosen = {};
  Object.keys(f.values || {}).forEach((k) => { if ((f.values[k] || []).length) { st.chosen[k] = new Set(f.values[k]); } });
}

function applyVisibility(st) {
  Object.keys(st.layers).forEach((key) => {
    const item = st.layers[key];
    if (st.visible.has(key)) { if (!st.map.hasLayer(item.group)) { item.group.addTo(st.map); } }
    else if (st.map.hasLayer(item.group)) { st.map.removeLayer(item.group); }
  });
  st.order.forEach((key) => { const item = st.layers[key]; if (item && st.map.hasLayer(item.group)) { item.group.bringToFront(); } });
}

function updateTiles(L, st, data) {
  const key = JSON.stringify(data.spec.tiles);
  if (st.tilesKey === key) { return; }
  st.tilesKey = key;
  st.tiles.forEach((t) => st.map.removeLayer(t));
  st.notice.textContent = "";
  st.notice.style.display = "none";
  st.tiles = data.spec.tiles.map((t) => {
    const layer = L.tileLayer(t.url, { attribution: t.attribution, subdomains: t.subdomains, maxZoom: t.maxZoom });
    let failed = 0;
    layer.on("tileerror", () => {
      failed += 1;
      if (failed === 1) { st.notice.textContent = data.texts.tiles_failed; st.notice.style.display = "block"; }
    });
    layer.on("tileload", () => { if (failed === 0) { st.notice.style.display = "none"; } });
    layer.addTo(st.map);
    layer.bringToBack();
    return layer;
  });
}

function updateLayers(L, st, data) {
  const wanted = new Set();
  data.spec.layers.forEach((entry) => {
    wanted.add(entry.key);
    const old = st.layers[entry.key];
    if (old && old.hash === entry.hash) { return; }
    const group = buildLayer(L, entry);
    const item = { hash: entry.hash, group, subs: layerSubs(group) };
    filterItem(st, entry.key, item);
    if (st.visible.has(entry.key)) { group.addTo(st.map); }  // the new data is drawn before the old goes
    if (old) { st.map.removeLayer(old.group); }
    st.layers[entry.key] = item;
  });
  Object.keys(st.layers).forEach((key) => {
    if (!wanted.has(key)) { st.map.removeLayer(st.layers[key].group); delete st.layers[key]; }
  });
  st.order = data.spec.z_order || data.spec.layers.map((e) => e.key);
  applyVisibility(st);
}

function updateView(st, data) {
  // The map moves only for a new intent (a shared link, a search, a town): the token says which. Back on a page
  // after another one, the map takes up the view the user left, unless a new intent came meanwhile.
  const view = data.view || {};
  if (view.token === st.viewToken) { return false; }
  st.viewToken = view.token;
  const saved = data.storageKey && !view.explicit ? window.sessionStorage.getItem("sj-view-" + data.storageKey) : null;
  if (saved && st.first) {
    try {
      const v = JSON.parse(saved);
      st.map.setView(v.center, v.zoom, { animate: false });
      return true;
    } catch (e) { /* fall through to the intent */ }
  }
  if (view.center && view.zoom) { st.map.setView(view.center, view.zoom, { animate: false }); return true; }
  const bounds = view.bounds || data.spec.fit;
  if (bounds) { st.map.fitBounds(bounds, { animate: false }); }
  return true;
}

function copyLink(st, data, button) {
  const url = new URL(window.location.href);
  const view = roundView(st.map);
  url.searchParams.set("c", view.c);
  url.searchParams.set("z", view.z);
  const text = url.toString();
  const done = () => { button.textContent = data.texts.copied; setTimeout(() => { button.textContent = data.texts.copy; }, 2000); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => window.prompt(data.texts.copy, text));
  } else {
    window.prompt(data.texts.copy, text);
  }
  button.dataset.link = text;
}

function setup(L, root, data, setStateValue, setTriggerValue) {
  root.innerHTML = "";
  const st = { layers: {}, tiles: [], order: [], first: true, viewToken: null, visible: new Set(), chosen: {} };
  const mapDiv = el("div", "sj-map", root);
  st.notice = el("div", "sj-notice", root);
  st.controls = el("div", "sj-controls", root);
  st.layerSlot = el("div", "sj-slot", st.controls);
  st.filterSlot = el("div", "sj-slot", st.controls);
  st.toolSlot = el("div", "sj-slot", st.controls);
  st.legendSlot = el("div", "sj-legend-slot", root);
  document.addEventListener("fullscreenchange", () => setTimeout(() => st.map.invalidateSize(), 100));
  st.map = L.map(mapDiv, { zoomControl: false, attributionControl: true, preferCanvas: false, zoomSnap: 1 });
  L.control.zoom({ zoomInTitle: data.texts.zoom_in, zoomOutTitle: data.texts.zoom_out }).addTo(st.map);
  st.map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(st.map);
  if (data.spec.tools) {
    window.__sjMeasure.then((Measure) => {
      if (!Measure) { return; }
      new Measure({ position: "topleft", primaryLengthUnit: "kilometers", secondaryLengthUnit: "meters",
        primaryAreaUnit: "hectares", secondaryAreaUnit: "sqmeters", localization: data.texts.measure_locale }).addTo(st.map);
    });
  }
  st.map.on("moveend", () => {
    // Only the user's own moves go into the address; the map's moves to an intent (a link, a search) do not.
    if (!st.silent) { st.userMoved = true; }
    if (st.data.urlView && st.userMoved) { writeViewToAddress(st.map); }
    if (st.data.storageKey) {
      const c = st.map.getCenter();
      window.sessionStorage.setItem("sj-view-" + st.data.storageKey, JSON.stringify({ center: [c.lat, c.lng], zoom: st.map.getZoom() }));
    }
  });
  // Names are placed again after every move (the map's one listener, whichever label layer is current).
  st.map.on("zoomend moveend", () => { if (st.labels && st.labelsPlaced) { st.labels.place(); } });
  st.map.on("click", (e) => {
    if (st.data.readonly || !st.data.clickable) { return; }
    setTriggerValue("click", { lat: e.latlng.lat, lon: e.latlng.lng, view: roundView(st.map), at: Date.now() });
  });
  root.__sj = st;
  return st;
}

function render(L, root, data, setStateValue, setTriggerValue) {
  // The height is set before Leaflet first measures its box, so a first draw needs no second measure (each one
  // forces a layout of the whole page); a later height change is measured again.
  const height = data.height + "px";
  const resized = root.style.height !== height;
  root.style.height = height;
  let st = root.__sj;
  if (!st) { st = setup(L, root, data, setStateValue, setTriggerValue); }
  st.data = data;
  st.visible = new Set(data.on || data.spec.layers.filter((e) => e.show).map((e) => e.key));
  data.spec.layers.forEach((e) => { e.titleHtml = e.title; });
  // Chrome (layer list, legend, buttons) is rebuilt from the data each time: small, and always in the page's language.
  st.layerSlot.innerHTML = "";
  st.toolSlot.innerHTML = "";
  st.legendSlot.innerHTML = "";
  if (data.layerControl) { layerControl(st, data, setStateValue); }
  takeFilter(st, data);
  filterControl(st, data, setStateValue);
  if (data.spec.legend) {
    const legend = el("details", "sj-box sj-legend", st.legendSlot);
    legend.open = data.spec.legend.open && !data.compact && window.innerWidth >= 1500 && data.height >= 560;
    el("summary", "", legend).innerHTML = data.spec.legend.title;
    el("div", "sj-legend-body", legend).innerHTML = data.spec.legend.html;
  }
  const tools = el("div", "sj-tools", st.toolSlot);
  if (data.share) {
    const button = el("button", "sj-button sj-copy", tools);
    button.type = "button";
    button.textContent = data.texts.copy;
    button.addEventListener("click", () => copyLink(st, data, button));
  }
  const full = el("button", "sj-button sj-full", tools);
  full.type = "button";
  full.textContent = data.texts.fullscreen;
  full.addEventListener("click", () => {
    if (document.fullscreenElement) { document.exitFullscreen(); } else if (root.requestFullscreen) { root.requestFullscreen(); }
  });
  updateTiles(L, st, data);
  if (st.first) { performance.mark("sj-chrome"); }
  updateLayers(L, st, data);
  Object.keys(st.layers).forEach((key) => filterItem(st, key, st.layers[key]));  // the filter may have changed
  applyVisibility(st);
  filterLegend(st);
  if (st.first) { performance.mark("sj-layers"); }
  if (st.labels) { st.map.removeLayer(st.labels); }
  st.labels = labelLayer(L, st.map, data.labels, (layer, id) => hiddenByFilter(st, layer, id));
  st.labels.addTo(st.map);
  st.silent = true;
  const moved = updateView(st, data);
  st.silent = false;
  if (resized && !st.first) { st.map.invalidateSize(); }
  if (st.first) {
    // The shapes are painted first; the names follow in the next frame.
    const labels = st.labels;
    requestAnimationFrame(() => {
      if (st.labels === labels) { labels.place(); st.labelsPlaced = true; performance.mark("sj-labels"); }
    });
  } else {
    st.labels.place();
    st.labelsPlaced = true;
  }
  if (data.urlView && !moved && st.userMoved) {
    // A rerun may have rewritten the address from the server's copy: put the live view back.
    setTimeout(() => writeViewToAddress(st.map), 60);
    setTimeout(() => writeViewToAddress(st.map), 500);
  }
  if (st.first) {
    st.first = false;
    root.dataset.drawn = "1";
    performance.mark("sj-rendered");
    // After the first paint with shapes: the next animation frame comes once this one is on screen.
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const preview = document.getElementById("sj-preview");
      if (preview) { preview.remove(); }  // the map drew itself: the served page's preview of it goes
      savePreview(st, data, root);
      reportDrawn(root, data, setStateValue, "drawn");
    }));
  }
}

function savePreview(st, data, root) {
  // What this map drew first on the page as opened, for the served page's preview next time at this address
  // (layers/app/preview.py, early.js): only the map of the page loaded (not one reached from another page), once.
  const load = window.__sjLoad;
  if (!data.storageKey || !data.version || !load || load.saved || load.path !== window.location.pathname) { return; }
  load.saved = true;
  const box = root.getBoundingClientRect();
  const c = st.map.getCenter();
  try {
    window.localStorage.setItem("sj-preview:" + load.path, JSON.stringify({
      path: load.path, search: load.search, size: window.innerWidth + "x" + window.innerHeight, version: data.version,
      rect: [box.left + window.scrollX, box.top + window.scrollY, box.width, box.height], center: [c.lat, c.lng],
      zoom: st.map.getZoom(), on: Array.from(st.visible), chosen: filterLists(st.chosen), spec: data.spec }));
  } catch (e) { /* storage full or off: no preview next time */ }
}

function reportDrawn(root, data, setStateValue, how) {
  // "Map first": the page sends the rest once the map is drawn, failed, or took longer than the time limit.
  if (!data.gate || root.__sjReported) { return; }
  root.__sjReported = true;
  setStateValue("drawn", how);
}

export default function (component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  const root = parentElement.querySelector(".sj-map-root");
  if (!root.__sjMounted) { root.__sjMounted = true; performance.mark("sj-mount"); }
  if (data.gate && !root.__sjGateTimer) {
    root.__sjGateTimer = setTimeout(() => reportDrawn(root, data, setStateValue, "timeout"), data.gateMs || 10000);
  }
  loadLeaflet().then((L) => { performance.mark("sj-leaflet"); return L; }).then((L) => render(L, root, data, setStateValue, setTriggerValue)).catch((err) => {
    root.textContent = (data.texts && data.texts.failed) || String(err);
    root.dataset.failed = "1";
    reportDrawn(root, data, setStateValue, "error");
  });
}
