// What the app's two in-page Leaflet components share (the map, mapview.js, and the Present page's scene,
// sceneview.js): the vector layers drawn from the escaped payloads Python read off the folium map
// (layers/map/spec.py). Python puts the Leaflet loader (leaflet_loader.js) and this file before each component's own
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
