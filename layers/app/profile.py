"""The Map page's side panels for what is selected: a town's profile (stated facts first, then its contents
computed on its boundary, marked approximate while that boundary is schematic) and any other selected feature."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import streamlit as st

from layers.app.cache import cached_gazetteer, cached_town_contents
from layers.app.chrome import plain
from layers.core.catalog import get_catalog
from layers.core.i18n import t
from layers.map.search import GazetteerEntry
from layers.map.state import MapState
from layers.map.tables import contents_heading, town_facts_table

#: Names listed per kind of content in the profile; the rest are counted.
PROFILE_NAMES = 6


def _names(items: list[dict[str, Any]], lang: str, *, km: bool = False) -> str:
    """``items`` as one line of names (≈ on each that depends on schematic geometry), the rest counted."""
    if not items:
        return t("tp_none", lang)
    parts = []
    for item in items[:PROFILE_NAMES]:
        name = str(item.get(f"name_{lang}") or item.get("name_zh") or item.get("id"))
        approx = "≈" if item.get("approximate") else ""
        parts.append(f"{approx}{name} {approx}{item['km']:.1f} km" if km else f"{approx}{name}")
    text = "、".join(parts) if lang == "zh" else ", ".join(parts)
    if len(items) > PROFILE_NAMES:
        text += " " + t("tp_more", lang, n=len(items))
    return text


def selection_focus(state: MapState) -> GazetteerEntry | None:
    """The gazetteer entry of the state's selected feature (outlined and zoomed to), None when nothing is selected."""
    if state.selected is None:
        return None
    for entry in cached_gazetteer(get_catalog().layer_ids):
        if (entry.layer_id, entry.feature_id) == state.selected:
            return entry
    return None


def town_profile(layers: Mapping[str, gpd.GeoDataFrame], code: str, lang: str, *,
                 on_close: Callable[[], None]) -> None:
    """The focused town's profile: its official facts and zone as the sources state them, then what lies inside
    it (stations, lines with km, parks), computed on its boundary and marked ≈ while that boundary is schematic."""
    towns = layers.get("towns")
    if towns is None or code not in set(towns["code"].astype(str)):
        return
    catalog = get_catalog()
    row = towns[towns["code"].astype(str) == code].iloc[0]
    name = str(row.get("name_en" if lang == "en" else "name_zh") or code)
    with st.container(key="town_profile", border=True):
        st.markdown(f"**{plain(t('tp_title', lang, name=name))}**")
        st.caption(t("tp_stated", lang))
        facts = town_facts_table(catalog, towns, code, lang)
        st.markdown("  \n".join(f"{plain(label)}: {plain(value)}" for label, value in
                                zip(facts.iloc[:, 0], facts.iloc[:, 1], strict=True)))
        contents = cached_town_contents(catalog.layer_ids, code)
        if contents is not None:
            st.caption(plain(contents_heading(contents, lang)))
            lines = [f"**{plain(t(key, lang))}** ({len(contents[key])}): "
                     f"{plain(_names(contents[key], lang, km=key == 'lines'))}"
                     for key in ("stations", "lines", "parks")]
            st.markdown("  \n".join(lines))
        st.button(t("tp_close", lang), key="tp_close", on_click=on_close)


def selection_panel(entry: GazetteerEntry, lang: str, *, on_clear: Callable[[], None]) -> None:
    """The selected feature (not a town): what it is, and a button that clears the selection."""
    layer = get_catalog().layer(entry.layer_id).title(lang)
    with st.container(key="selection_panel", border=True):
        st.markdown(f"**{plain(t('sel_title', lang, layer=layer, name=entry.name(lang)))}**")
        st.button(t("sel_clear", lang), key="sel_clear", on_click=on_clear)
