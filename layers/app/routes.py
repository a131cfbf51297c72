"""The app's pages and their addresses (no Streamlit here: :mod:`layers.app.serve` reads them before the runtime
starts)."""
from __future__ import annotations

#: Page files and their title keys, the home page first.
PAGES = (("app.py", "page_home"), ("pages/1_地图_Map.py", "page_map"), ("pages/2_街镇_Towns.py", "page_towns"),
         ("pages/3_规划_Plan.py", "page_plan"), ("pages/4_数据_Data.py", "page_data"),
         ("pages/5_演示_Present.py", "pres_page"))


def page_route(path: str) -> str:
    """URL path of a page file: its name without the number prefix (``pages/1_地图_Map.py`` → ``地图_Map``)."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".py")
    return stem.split("_", 1)[1] if stem.split("_", 1)[0].isdigit() else stem


def page_routes() -> list[str]:
    """The routes of every page but the home page (which is the app's root)."""
    return [page_route(path) for path, _ in PAGES if path != "app.py"]
