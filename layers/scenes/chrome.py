"""The scene's on-screen chrome (title, legend, north arrow, scale bar, note, presenter keys) as one folium element."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from branca.element import MacroElement, Template

from layers.core import settings
from layers.core.errors import SceneError
from layers.core.i18n import LANGS, t
from layers.map.elements import safe_text, script_json

_NORTH_ARROW = """<svg width="40" height="58" viewBox="0 0 40 58" aria-hidden="true">
<polygon points="20,4 31,38 20,31 9,38" fill="#222"/>
<polygon points="20,4 20,31 9,38" fill="#fff" stroke="#222" stroke-width="1.2"/>
</svg>"""


NORTH = {lang: t("scn_north", lang) for lang in LANGS}


NOTE_TITLE = {lang: t("pres_note", lang) for lang in LANGS}


#: The note folded into a button (a short window).
NOTE_SHORT = {lang: t("scn_sources", lang) for lang in LANGS}


#: "file": the offline HTML (title and note over the map); "page": the Present page, whose in-page scene
#: (layers/app/sceneview.js) draws from :meth:`SceneChrome.page_data` — this template's page-only CSS and script are
#: kept for a document rendered with this layout, which the app itself no longer shows.
LAYOUTS = ("file", "page")


@dataclass(frozen=True)
class SceneLabel:
    lat: float
    lon: float
    text: str
    rank: int
    kind: str               # "point" or "area"
    style: str              # "", "faint" or "focus"
    radius: float = 0.0     # of the point's marker (px)


def label_data(label: SceneLabel) -> dict[str, Any]:
    """One label for the page script: where, and its escaped HTML."""
    classes = " ".join(c for c in ("sj-label", f"sj-label-{label.kind}", label.style and f"sj-label-{label.style}")
                       if c)
    span = (f'<span class="{classes}" data-rank="{label.rank}" data-r="{label.radius:g}">'
            f"{safe_text(label.text)}</span>")
    return {"lat": round(label.lat, settings.COORD_DECIMALS), "lon": round(label.lon, settings.COORD_DECIMALS),
            "html": span}


_CHROME_TEMPLATE = """
{% macro header(this, kwargs) %}
<style>
  .sj-panel { position:absolute; z-index:1000; background:rgba(255,255,255,.93); border:1px solid #999;
    border-radius:4px; font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif;
    color:#222; }
  .sj-title { top:10px; left:10px; max-width:min(62%, 980px); padding:8px 14px; }
  .sj-title h1 { font-size:26px; line-height:1.25; margin:0 0 4px; font-weight:700; }
  .sj-title p { font-size:14px; line-height:1.4; margin:0; color:#333; }
  .sj-note { bottom:10px; right:10px; max-width:400px; max-height:45%; overflow:auto; padding:6px 10px;
    font-size:11px; line-height:1.4; }
  .sj-note p { margin:0 0 2px; }
  .sj-note summary { cursor:pointer; font-weight:600; }
  .sj-note[open] .sj-short, .sj-note:not([open]) .sj-long { display:none; }
  .sj-north { top:10px; right:10px; width:52px; padding:2px 0 4px; text-align:center; font-weight:700;
    font-size:15px; line-height:1; }
  .leaflet-top.leaflet-right { top:84px; }
  .leaflet-container { background:#fff; }
  .sj-anchor { background:none; border:none; }
  .leaflet-control-scale-line + .leaflet-control-scale-line { display:none; }  /* metric only */
  .sj-label { position:absolute; left:0; top:0; white-space:nowrap; pointer-events:none; color:#202020;
    font:12px/1.2 'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif;
    text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,1px 1px 0 #fff,-1px -1px 0 #fff; }
  .sj-label-area { transform:translate(-50%,-50%); }
  .sj-label-faint { color:#6a6a6a; }
  .sj-label-focus { font-size:18px; font-weight:700; }
  .sj-measuring .leaflet-overlay-pane path { pointer-events:visiblePainted !important; }
{% if this.layout == "page" %}
  /* The Present page: the scene fills its frame; the map takes the height the header leaves. */
  html, body { height:100%; margin:0; overflow:hidden; }
  body { display:flex; flex-direction:column; background:#fff; }
  .folium-map { flex:1 1 auto; position:relative !important; height:auto !important; min-height:0; }
  .sj-title { order:-1; position:static; display:none; max-width:none; border:none; border-radius:0; background:#fff;
    padding:clamp(6px,1.2vh,24px) clamp(10px,1.4vw,40px) clamp(2px,.6vh,12px); }
  .sj-title h1 { font-size:clamp(20px,4.2vh,64px); }
  .sj-title p { font-size:clamp(12px,1.9vh,30px); }
  body.sj-fs .sj-title { display:block; }
  .sj-legend { bottom:clamp(40px,7vh,110px); font-size:clamp(11px,1.55vh,22px); max-height:calc(100% - 90px);
    max-width:min(34%, 420px); }
  .sj-note { font-size:clamp(10px,1.4vh,20px); max-width:min(40%, 560px); }
  .sj-north { font-size:clamp(13px,2vh,28px); width:auto; padding:2px 8px 4px; }
  .sj-north svg { height:clamp(34px,6vh,96px); width:auto; }
  .leaflet-top.leaflet-right { top:clamp(58px,9vh,150px); }
  .sj-label { font-size:clamp(11px,1.5vh,22px); }
  .sj-label-focus { font-size:clamp(15px,2.3vh,34px); }
  .leaflet-control-scale-line { font-size:clamp(11px,1.4vh,20px); }
  .sj-present { position:absolute; z-index:1001; top:10px; right:clamp(70px,8vw,150px); padding:4px 10px;
    font-size:clamp(12px,1.6vh,22px); cursor:pointer; background:#fff; border:1px solid #888; border-radius:4px; }
  @media (max-width: 640px) {
    .sj-legend { max-width:60%; max-height:40%; }
    .sj-note { max-width:70%; }
    .sj-present { display:none; }
  }
{% endif %}
</style>
{% endmacro %}

{% macro html(this, kwargs) %}
{% if this.title %}<div class="sj-panel sj-title"><h1>{{ this.title }}</h1><p>{{ this.subtitle }}</p></div>{% endif %}
{% if this.note %}<details class="sj-panel sj-note" open><summary><span class="sj-long">{{ this.note_title }}</span>
<span class="sj-short">{{ this.note_short }}</span></summary>{{ this.note }}</details>{% endif %}
<div class="sj-panel sj-north" title="{{ this.north }}">{{ this.arrow }}<div>{{ this.north }}</div></div>
{% if this.layout == "page" %}
<button type="button" class="sj-present" title="{{ this.present_hint }}">{{ this.present }}</button>{% endif %}
{% endmacro %}

{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var layout = {{ this.layout_json }};
  var bounds = L.latLngBounds({{ this.bounds_json }});
  var box = map.getContainer();
  if (layout === 'page') {
    /* Legend, note and north arrow sit on the map itself, so they stay inside the part of the frame it takes. */
    document.querySelectorAll('.sj-legend, .sj-note, .sj-north, .sj-present').forEach(function (el) {
      box.appendChild(el);
      L.DomEvent.disableClickPropagation(el);
      L.DomEvent.disableScrollPropagation(el);
    });
  }
  /* Fold the note into a small button when the window is short (a projector at 768 px or less). */
  var note = document.querySelector('.sj-note');
  var legend = document.querySelector('.sj-legend details');
  function foldNote() {
    if (note) { note.open = window.innerHeight >= {{ this.fold_below }} && window.innerWidth > 640; }
    /* A phone shows the map first; the legend opens with a tap. */
    if (legend) { legend.open = window.innerWidth > 640; }
  }
  foldNote();
  /* Fit the scene with padding in proportion to the map, so a narrow phone never gets a negative size. */
  function fit() {
    var size = map.getSize();
    if (!size.x || !size.y) { return; }
    var pad = layout === 'page' ? [[0.04, 0.04], [0.04, 0.04]] : [[0.18, 0.12], [0.14, 0.04]];
    map.fitBounds(bounds, {paddingTopLeft: [size.x * pad[0][0], size.y * pad[0][1]],
                           paddingBottomRight: [size.x * pad[1][0], size.y * pad[1][1]], animate: false});
  }
  /* An open note never covers the scene's focus (the district, or the town of a close-up): where it would, it
     starts folded into its button, which a tap opens. */
  function spareFocus() {
    if (!note || !note.open) { return; }
    var frame = box.getBoundingClientRect(), n = note.getBoundingClientRect();
    var nw = map.latLngToContainerPoint(bounds.getNorthWest()), se = map.latLngToContainerPoint(bounds.getSouthEast());
    var clear = n.right <= frame.left + nw.x || n.left >= frame.left + se.x ||
                n.bottom <= frame.top + nw.y || n.top >= frame.top + se.y;
    if (!clear) { note.open = false; }
  }
  fit();
  spareFocus();
  window.addEventListener('resize', function () { foldNote(); map.invalidateSize(false); fit(); spareFocus(); });
  /* Names as plain divIcons (a folium Marker would first fetch Leaflet's default marker image). */
  {{ this.labels_json }}.forEach(function (l) {
    L.marker([l.lat, l.lon], {icon: L.divIcon({className: 'sj-anchor', iconSize: [0, 0], html: l.html}),
                              interactive: false, keyboard: false}).addTo(map);
  });
  /* Two px to spare: a name's box can move by a fraction of a pixel once the page settles (fonts, zoom). */
  var GAP = 2;
  function overlaps(a, b) {
    return !(a.right + GAP <= b.left || a.left >= b.right + GAP || a.bottom + GAP <= b.top || a.top >= b.bottom + GAP);
  }
  /* An area's name tries its centre, then small shifts (like the printed page). */
  var AREA_SHIFTS = ['translate(-50%,-50%)', 'translate(-50%,50%)', 'translate(-50%,-150%)', 'translate(0,-50%)',
                     'translate(-100%,-50%)', 'translate(-50%,150%)', 'translate(-50%,-250%)'];
  function slot(el, i) {
    var gap = (parseFloat(el.dataset.r) || 0) + 3;
    el.style.transform = ['translate(' + gap + 'px,-50%)', 'translate(calc(-100% - ' + gap + 'px),-50%)',
                          'translate(-50%,calc(-100% - ' + gap + 'px))', 'translate(-50%,' + gap + 'px)',
                          'translate(' + gap + 'px,-100%)', 'translate(calc(-100% - ' + gap + 'px),-100%)',
                          'translate(' + gap + 'px,0)', 'translate(calc(-100% - ' + gap + 'px),0)'][i];
  }
  /* Boxes a name may not cover: the panels and controls, the point markers, and every drawn line except the
     fills of areas (an area's name sits on its fill, never on an outline such as the district edge). */
  function obstacles() {
    var taken = [];
    document.querySelectorAll('.sj-panel, .sj-legend, .leaflet-control, .sj-present').forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width && r.height) { taken.push(r); }
    });
    return taken;
  }
  function under(x, y) {
    var fills = [], ink = false;
    document.elementsFromPoint(x, y).forEach(function (el) {
      if (el.tagName !== 'path') { return; }
      var kind = el.getAttribute('data-sj-ink');
      if (kind === '1') { ink = true; } else if (kind !== 'ring') { fills.push(el); }
    });
    return {fills: fills, ink: ink};
  }
  function badSpot(r, area) {
    /* A name may not cross a line or a marker; an area's name must also lie within one area (so it never sits on
       an outline such as the district edge): every sampled point sees the same fills as the centre. */
    var centre = under((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    var xs = [r.left + 1, (r.left + r.right) / 2, r.right - 1], ys = [r.top + 1, (r.top + r.bottom) / 2, r.bottom - 1];
    for (var i = 0; i < xs.length; i++) {
      for (var j = 0; j < ys.length; j++) {
        var here = under(xs[i], ys[j]);
        if (here.ink) { return true; }
        if (area && (here.fills.length !== centre.fills.length ||
                     here.fills.some(function (f, n) { return f !== centre.fills[n]; }))) { return true; }
      }
    }
    return false;
  }
  function markInk() {
    /* A path is "ink" when it is a line or a point marker: no fill, or a small closed shape. */
    box.querySelectorAll('.leaflet-overlay-pane path').forEach(function (p) {
      var fill = p.getAttribute('fill');
      var r = p.getBoundingClientRect();
      var point = r.width < 30 && r.height < 30;
      /* An uncertainty ring is neither ink nor an area: a name may sit on it. */
      var ring = fill === '#888888' && p.getAttribute('stroke-dasharray') === '4 4';
      p.setAttribute('data-sj-ink', ring ? 'ring' : (fill === 'none' || point) ? '1' : '0');
    });
  }
  /* Keep the labels that fit, best ranked first; the rest hide until a zoom makes room (like the printed map). */
  function declutter() {
    var frame = box.getBoundingClientRect();
    box.classList.add('sj-measuring');
    var taken = obstacles();
    markInk();
    var labels = Array.prototype.slice.call(box.querySelectorAll('.sj-label'));
    /* Names are sized in viewport units; their size is fixed in pixels here, so a later change of the frame's
       height cannot grow a placed name into its neighbour before the names are placed again. */
    labels.forEach(function (el) { el.style.visibility = 'hidden'; el.style.fontSize = ''; });
    var sizes = labels.map(function (el) { return getComputedStyle(el).fontSize; });
    labels.forEach(function (el, i) { el.style.fontSize = sizes[i]; });
    labels.sort(function (a, b) { return a.dataset.rank - b.dataset.rank; });
    labels.forEach(function (el) {
      var point = el.classList.contains('sj-label-point');
      var slots = point ? 8 : AREA_SHIFTS.length;
      for (var i = 0; i < slots; i++) {
        if (point) { slot(el, i); } else { el.style.transform = AREA_SHIFTS[i]; }
        var r = el.getBoundingClientRect();
        var inside = r.left >= frame.left && r.right <= frame.right && r.top >= frame.top && r.bottom <= frame.bottom;
        var edge = badSpot(r, !point);
        if (inside && !edge && !taken.some(function (t) { return overlaps(r, t); })) {
          taken.push(r);
          el.style.visibility = 'visible';
          return;
        }
      }
    });
    /* Check what was placed, measured again as it now stands: a name that touches a better-ranked one hides. */
    var shown = [];
    labels.forEach(function (el) {
      if (el.style.visibility !== 'visible') { return; }
      var r = el.getBoundingClientRect();
      if (shown.some(function (t) { return overlaps(r, t); })) { el.style.visibility = 'hidden'; }
      else { shown.push(r); }
    });
    box.classList.remove('sj-measuring');
    document.body.setAttribute('data-sj-placed', String(Date.now()));
  }
  map.whenReady(function () { setTimeout(declutter, 0); });
  map.on('zoomend moveend resize', declutter);
  /* Names are sized in viewport units: when the frame changes size (the page fits it to the window, full screen)
     they grow or shrink, so they are placed again once the size has settled. */
  var settle = null;
  function replace() { clearTimeout(settle); settle = setTimeout(function () { fit(); declutter(); }, 120); }
  if (window.ResizeObserver) { new ResizeObserver(replace).observe(box); }
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(replace); }
  if (layout !== 'page') { return; }
  /* Presenter mode: keys of a clicker walk the scenes (through the page's own buttons, so the URL follows);
     the whole scene goes full screen, with its title, legend, north arrow and scale. */
  var host = null;
  try { host = window.parent !== window ? window.parent : null; if (host) { host.document.body; } }
  catch (err) { host = null; }
  var keys = {ArrowRight: 'next', PageDown: 'next', ' ': 'next', Spacebar: 'next', ArrowLeft: 'prev',
              PageUp: 'prev', Home: 'first', End: 'last'};
  function press(name) {
    if (!host) { return false; }
    var button = host.document.querySelector('.st-key-pres_' + name + ' button');
    if (button && !button.disabled) { button.click(); return true; }
    return false;
  }
  function onKey(e) {
    var target = e.target;
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (target && (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable)) { return; }
    if (e.key === 'Escape') {
      var doc = host ? host.document : document;
      if (doc.fullscreenElement) { doc.exitFullscreen(); }
      return;
    }
    if (e.key === 'f' || e.key === 'F') { toggleFull(); e.preventDefault(); return; }
    var action = keys[e.key];
    if (!action) { return; }
    e.preventDefault();
    e.stopPropagation();
    press(action);
  }
  document.addEventListener('keydown', onKey, true);
  var frameEl = host ? window.frameElement : null;
  if (host) {
    if (host.__sjKeys) { host.document.removeEventListener('keydown', host.__sjKeys, true); }
    host.__sjKeys = onKey;
    host.document.addEventListener('keydown', onKey, true);
  }
  function fullDoc() { return host ? host.document : document; }
  function syncFull() {
    var on = !!fullDoc().fullscreenElement;
    document.body.classList.toggle('sj-fs', on);
    if (host) { host.document.documentElement.classList.toggle('sj-fs', on); }
    var button = document.querySelector('.sj-present');
    if (button) { button.textContent = on ? {{ this.present_exit_json }} : {{ this.present_json }}; }
    fitFrame();
    map.invalidateSize(false);
    fit();
  }
  function toggleFull() {
    var doc = fullDoc();
    if (doc.fullscreenElement) { doc.exitFullscreen(); return; }
    var target = doc.documentElement;
    if (target.requestFullscreen) { target.requestFullscreen().catch(function () {}); }
  }
  var present = document.querySelector('.sj-present');
  if (present) { present.addEventListener('click', function (e) { e.preventDefault(); toggleFull(); }); }
  /* The frame takes the height left below it in the window (never less than a phone's map needs). */
  function fitFrame() {
    if (!frameEl) { return; }
    frameEl.classList.add('sj-scene-frame');
    if (fullDoc().fullscreenElement) { return; }
    var top = frameEl.getBoundingClientRect().top + host.scrollY;
    var spare = host.innerWidth <= 640 ? 0 : {{ this.bottom_gap }};
    var height = Math.max({{ this.min_height }}, Math.floor(host.innerHeight - top - spare));
    if (Math.abs(frameEl.offsetHeight - height) > 1) { frameEl.style.height = height + 'px'; }
  }
  if (host) {
    if (host.__sjFull) { host.document.removeEventListener('fullscreenchange', host.__sjFull); }
    host.__sjFull = syncFull;
    host.document.addEventListener('fullscreenchange', syncFull);
    if (host.__sjResize) { host.removeEventListener('resize', host.__sjResize); }
    host.__sjResize = fitFrame;
    host.addEventListener('resize', fitFrame);
  }
  syncFull();
  setTimeout(fitFrame, 200);
})();
{% endmacro %}
"""


class SceneChrome(MacroElement):
    """What a scene map shows besides its layers: north arrow, names (placed without overlaps), and on a
    standalone page the title panel and the note on sources and accuracy.

    Every text is made inert here (:func:`layers.render.safe_text`: HTML-escaped, braces as entities, since
    branca re-reads rendered output as a template). The names are JSON inside this element's own script, which
    streamlit-folium also renders; with no brace left in any text, that JSON holds no template syntax.
    """

    _template = Template(_CHROME_TEMPLATE)

    def __init__(self, *, lang: str, labels: list[SceneLabel], bounds: list[list[float]], title: str = "",
                 subtitle: str = "", note_lines: tuple[str, ...] = (), layout: str = "file"):
        super().__init__()
        if layout not in LAYOUTS:
            raise SceneError(f"Unknown scene layout {layout!r}; use one of {LAYOUTS}.")
        self._name = "SceneChrome"
        self.layout = layout
        self.layout_json = script_json(layout)
        self.bounds = bounds
        self.bounds_json = script_json(bounds)
        self.labels = [label_data(label) for label in labels]
        self.labels_json = script_json(self.labels)
        self.title = safe_text(title)
        self.subtitle = safe_text(subtitle)
        self.note = "".join(f"<p>{safe_text(line)}</p>" for line in note_lines)
        self.north = safe_text(NORTH.get(lang, "N"))
        self.note_title = safe_text(NOTE_TITLE.get(lang, NOTE_TITLE["en"]))
        self.note_short = safe_text(NOTE_SHORT.get(lang, NOTE_SHORT["en"]))
        self.present = safe_text(t("pres_fullscreen", lang))
        self.present_hint = safe_text(t("pres_fullscreen_hint", lang))
        self.present_json = script_json(t("pres_fullscreen", lang))
        self.present_exit = safe_text(t("pres_fullscreen_exit", lang))
        self.present_exit_json = script_json(t("pres_fullscreen_exit", lang))
        self.fold_below = settings.SCENE_NOTE_FOLD_BELOW_PX
        self.min_height = settings.SCENE_MIN_HEIGHT_PX
        self.bottom_gap = settings.SCENE_BOTTOM_GAP_PX
        self.arrow = _NORTH_ARROW

    def page_data(self) -> dict[str, Any]:
        """What the Present page's in-page scene (``layers/app/sceneview.js``) draws besides the layers: the same
        texts as this element's HTML (escaped here, inserted as HTML there), the names, the bounds to fit, and
        the note's folding and the frame's height settings."""
        return {"title": self.title, "subtitle": self.subtitle, "note": self.note, "noteTitle": self.note_title,
                "noteShort": self.note_short, "north": self.north, "arrow": self.arrow, "present": self.present,
                "presentHint": self.present_hint, "presentExit": self.present_exit, "labels": self.labels,
                "bounds": [[float(v) for v in corner] for corner in self.bounds], "foldBelow": self.fold_below,
                "minHeight": self.min_height, "bottomGap": self.bottom_gap}
