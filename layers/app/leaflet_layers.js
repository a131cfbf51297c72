// What the app's two in-page Leaflet components share (the map, mapview.js, and the Present page's scene,
// sceneview.js), and the Map page's preview (early.js, layers/app/preview.py): the vector layers drawn from the escaped
// payloads Python read off the folium map (layers/map/spec.py), and the filter index's rule. Python puts the Leaflet loader (leaflet_loader.js) and this file before each component's own
// module (layers/app/mapview.py component_js).

function el(tag, cls, parent) {
  const node = document.createElement(tag);
  if (cls) { node.className = cls; }
  if (parent) { parent.appendChild(node); }
  return node;
}

function tipText(props, fields) {
  // The first tooltip field only: hover says what it is; a click says everything (side panel).
  for (let i = 0; i < fields.length; i++) {
    const value = props[fields[i][0]];
    if (value !== undefined && value !== null && value !== "") { return String(value); }
  }
  return "";
}

function attributeTable(props, fields) {
  // Rows of [field, label], as in the folium page's tooltips and popups; labels and values were escaped on the
  // server (layers.map.elements.safe_text).
  let rows = "";
  fields.forEach(([field, label]) => {
    const value = props[field];
    if (value === undefined) { return; }
    rows += label ? "<tr><th>" + label + "</th><td>" + value + "</td></tr>" : "<tr><td colspan='2'>" + value + "</td></tr>";
  });
  return "<table class='sj-attr'>" + rows + "</table>";
}

function buildLayer(L, entry, tables) {
  // tables: hover and click show the layer's tooltip and popup tables as folium's page does (the Present page);
  // otherwise hover names the feature and a click goes to the page's side panel (the Map page).
  const group = L.featureGroup();
  entry.parts.forEach((part) => {
    const d = JSON.parse(part.payload);
    const layer = L.geoJSON(d.geojson, {
      interactive: part.interactive,
      style: (f) => d.styles[f.properties._s],
      pointToLayer: (f, latlng) => L.circleMarker(latlng, Object.assign({ radius: part.radius }, d.styles[f.properties._s])),
      onEachFeature: (f, lyr) => {
        if (!part.interactive) { return; }
        if (tables) {
          if ((d.tip || []).length) { lyr.bindTooltip(attributeTable(f.properties, d.tip), { sticky: true }); }
          if ((d.pop || []).length) { lyr.bindPopup(attributeTable(f.properties, d.pop), { maxWidth: 420 }); }
        } else {
          const text = tipText(f.properties, d.tip || []);
          if (text) { lyr.bindTooltip(text, { sticky: true, direction: "top", className: "sj-tip" }); }
        }
        lyr.on("mouseover", (e) => { if (e.target.setStyle) { e.target.setStyle(d.highlight); } });
        lyr.on("mouseout", (e) => { if (e.target.setStyle) { layer.resetStyle(e.target); } });
      },
    });
    layer.addTo(group);
  });
  return group;
}

function passes(clauses, chosen) {
  // The filter index's rule (layers/map/filters.py, passes): a feature passes a clause when the filter sets none of
  // its keys, or when one alternative has a token among the chosen values of every key the filter sets.
  for (const clause of clauses || []) {
    const tested = clause.k.filter((k) => chosen[k] && chosen[k].size);
    if (tested.length && !clause.a.some((alt) => tested.every((k) => (alt[k] || []).some((v) => chosen[k].has(v))))) {
      return false;
    }
  }
  return true;
}

function featureKey(sub) {
  // A feature's id; an uncertainty circle names its point instead (_of).
  const f = sub.feature || {};
  return f.id !== null && f.id !== undefined ? f.id : (f.properties || {})._of;
}

function layerSubs(group) {
  // Every shape of a layer drawn by buildLayer, with the GeoJSON layer holding it: [[geo, shape], …].
  const subs = [];
  group.eachLayer((geo) => geo.eachLayer((sub) => subs.push([geo, sub])));
  return subs;
}

function showPassing(subs, index, chosen) {
  // Shapes the filter leaves out leave their layer (neither drawn nor clickable); the others come back.
  subs.forEach(([geo, sub]) => {
    const id = featureKey(sub);
    const keep = !(index && id !== null && id !== undefined && index[id] && !passes(index[id], chosen));
    if (keep && !geo.hasLayer(sub)) { geo.addLayer(sub); } else if (!keep && geo.hasLayer(sub)) { geo.removeLayer(sub); }
  });
}
