"""Every user-visible string of the pages, one dictionary per language; :func:`t` looks a key up."""
from __future__ import annotations

import csv
import functools

from layers.core import paths

LANGS = ("zh", "en")


STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "language": "语言 / Language",
        "app_caption": "松江区“十四五”规划的空间结构、片区、轨道交通与产业园区。虚线 = 示意几何（不可量测）；"
                       "带虚线圆的点 = 近似位置（圆为误差半径）。无底图模式无需联网。",
        "page_home": "首页", "page_map": "地图", "page_towns": "街镇统计", "page_plan": "规划结构",
        "page_data": "数据来源",
        "headline": "规划要点数据",
        "fig_target": "{year} 目标：",
        "fig_source": "来源：{plan}，{ref}",
        "home_map": "规划结构与片区（示意）",
        "go_pages": "各页面",
        # map page
        "controls": "地图设置", "basemap": "底图", "layers": "图层", "filters": "筛选",
        "f_rail_status": "轨道状态", "f_rail_mode": "轨道方式", "f_rail_line": "线路",
        "f_park_kind": "园区类型", "f_park_industry": "产业", "f_zone": "片区", "f_town": "街镇",
        "search": "地点搜索", "search_help": "街镇、片区、车站、线路、园区名称（中文、拼音或英文）",
        "search_none": "未找到匹配的地点。", "search_pick": "搜索结果",
        "search_found": "已定位到：{name}",
        "features_shown": "当前显示 {n} 个要素",
        "undrawn": "规划提及但未绘制的线路", "unlocated": "未能定位的园区（仅列出，不绘制）",
        "none_listed": "无。",
        # exported GIS files (styles, project, README)
        "exp_other": "其他", "exp_geom_line": "线", "exp_geom_polygon": "面", "exp_geom_point": "点",
        "exp_metadata": "图层元数据",
        "exp_rd_layer": "图层", "exp_rd_features": "要素数", "exp_rd_crs": "坐标系", "exp_rd_release": "发布日期",
        "exp_rd_filter": "筛选", "exp_rd_attribution": "署名", "exp_rd_licence": "许可", "exp_rd_accuracy": "精度",
        "exp_rd_plan": "规划依据", "exp_rd_notes": "说明",
        "exp_rd_styles": "样式：同名 .qml 为 QGIS 样式（打开时自动应用），.sld 为 OGC 样式，颜色与网页地图一致；"
                         "虚线 = 示意几何，不可量测。",
        "share": "分享：点地图右上角的“复制链接”，链接会还原图层、筛选、底图、街镇和当前视图。",
        "ul_title": "叠加自己的图层", "ul_upload": "上传矢量文件（GeoJSON、GeoPackage、Shapefile 压缩包、KML，不超过 {mb} MB）",
        "ul_help": "只在本次会话中显示，不保存到服务器；坐标系从文件读取。",
        "ul_crs": "文件未声明坐标系时的 EPSG 代码（如 4549、4326）", "ul_loaded": "已叠加：{name}（{n} 个要素）",
        "ul_dropped": "{n} 个要素没有可绘制的几何（空或含 NaN/无穷坐标），未显示；{r} 个无效几何已修复。",
        "ul_failed": "无法显示此文件：{message}", "ul_summary": "自己的图层在各街镇的分布",
        "ul_schematic": "街镇边界为示意划分，各街镇的数值仅供参考（统计在 EPSG:4549 中计算）。",
        "ul_name": "街镇", "ul_count": "要素数", "ul_count_share": "占比 %", "ul_length_km": "长度 km",
        "ul_length_km_share": "长度占比 %", "ul_area_km2": "面积 km²", "ul_area_km2_share": "面积占比 %",
        "legend_colour": "颜色", "legend_range": "取值范围", "legend_towns": "街镇数",
        "map_legend": "图例", "map_accuracy": "精度与状态", "map_fullscreen": "全屏", "map_fullscreen_exit": "退出全屏",
        "map_my_layers": "我的图层", "map_uploaded": "上传，未经核对", "map_labels": "注记", "ul_outside": "区外",
        "dl_title": "下载图层（GIS 格式）", "dl_format": "格式", "dl_crs": "坐标系",
        "dl_help_map": "下载内容与地图当前显示一致：已打开的图层，应用当前筛选。每个要素保留来源、许可与精度字段。",
        "dl_help_data": "选择图层下载完整数据（不筛选）。每个要素保留来源、许可与精度字段。",
        "dl_layers": "图层", "dl_prepare": "生成文件", "dl_save": "保存 {name}",
        "dl_nothing": "没有选择图层。", "dl_failed": "无法生成下载：{message}",
        "dl_crs_only": "此格式只能使用 WGS 84 经纬度（EPSG:4326）。GCJ-02 从不用于导出。",
        "town_focus": "聚焦街镇", "all": "全部", "none_chosen": "未选择（不显示图层）", "ul_button": "选择文件",
        "no_town": "（不聚焦）",
        # towns page
        "statistic": "统计指标", "scheme": "分级方法", "classes": "分级数",
        "scheme_quantiles": "分位数", "scheme_equal_interval": "等间距", "scheme_natural_breaks": "自然断点",
        "missing": "缺失（未找到来源）", "schematic_note": "注意：{note}",
        "num_missing": "缺失（未找到来源）", "unit_persons": "人", "unit_km": "公里", "unit_km2": "平方公里",
        "unit_m": "米", "unit_pct": "%", "unit_yi": "亿元", "unit_density": "人/平方公里",
        "stat_unavailable": "{label}（暂无数据）", "stat_none": "此指标在任何街镇都没有数值（未找到来源），不能分级设色。",
        "col_value": "数值", "col_statistic": "指标", "unit_count": "个",
        "col_description": "说明", "col_reason": "原因",
        "src_census5": "第五次全国经济普查（2023），见 town_facts.csv", "src_nbs2022": "国家统计局 2022 年统计用区划代码",
        "src_census7": "第七次全国人口普查（2020）", "src_areas": "各街镇官方面积，年份不一，附可信度（town_facts.csv）",
        "src_computed": "本项目依据地图图层在 EPSG:4549 中计算",
        "src_density": "从业人员（2023）÷ 示意面积；本项目在 EPSG:4549 中计算",
        "stat_meta": "单位：{unit}；年份：{year}；来源：{source}",
        "table": "统计表", "chart": "条形图",
        "detail": "街镇详情", "choose_town": "选择街镇",
        "facts": "官方数据", "contents": "街镇内的要素（按示意边界）",
        "contents_real": "街镇内的要素（按导入边界：{accuracy}）",
        "towns_banner": "街镇边界为示意划分，依赖边界的数值均为近似（标 ≈）；可在数据来源页导入真实边界。",
        "towns_banner_partial": "{n} 个街镇的边界仍为示意划分，依赖这些边界的数值为近似（标 ≈）；"
                                "可在数据来源页导入真实边界。",
        "towns_banner_link": "前往导入街镇边界",
        "approx_col": "≈", "approx_yes": "≈ 近似",
        "layer_title_towns_mixed": "街镇（部分示意）", "layer_title_towns_real": "街镇（导入边界）",
        "town_heading_schematic": "{name}（示意边界）", "town_heading_real": "{name}",
        "zone_note_schematic": "示意：成员街镇均为示意划分",
        "zone_note_mixed": "部分示意：{names} 为示意划分，其余为导入边界",
        "zone_note_real": "成员街镇均为导入边界",
        "stat_unit_row": "统计单元，无独立辖区", "district_total": "全区合计",
        "stations": "车站", "lines": "线路（区内长度，公里）", "parks": "园区与重点地区",
        "zone": "所属片区", "plan_ref": "规划依据",
        "compare": "两街镇对比", "town_a": "街镇 A", "town_b": "街镇 B",
        "year_unknown": "—",
        "no_stats": "街镇图层未能加载，无法计算统计。",
        # plan page
        "structure": "空间结构：一廊一轴两核", "zones": "三片区", "members": "所含街镇",
        "indicators": "“十四五”主要指标（21 项）",
        "ind_no": "序号", "ind_name": "指标名称", "ind_unit": "单位", "ind_kind": "属性",
        "ind_target": "2025 年目标", "ind_2020": "2020 年值", "ind_2020_ref": "2020 年值出处",
        "ind_ref": "规划出处", "ind_latest": "最新值", "ind_latest_year": "最新值年份",
        "ind_latest_ref": "最新值出处（文章文件与行号）",
        "ind_note": "2020 年值仅在规划第一章给出时列出，其余显示为“缺失”，不作估算。最新值仅在文章（seed）"
                    "按同一口径给出时列出。",
        # data page
        "catalogue": "数据目录", "col_layer": "图层", "col_source": "来源", "col_licence": "许可",
        "col_accuracy": "精度", "col_features": "要素数", "col_crs": "坐标系", "col_release": "发布日期",
        "col_attribution": "署名", "col_date": "数据日期", "col_plan_ref": "规划出处",
        "accuracy_levels": "精度等级说明",
        "acc_authoritative": "官方测绘成果，可量测。",
        "acc_osm": "来自 OpenStreetMap，一般误差数米至数十米。",
        "acc_provider": "来自地图服务商（已由 GCJ-02 转换为 WGS84），误差约数十米。",
        "acc_approximate": "近似位置，地图上以虚线圆表示误差半径（见 accuracy_m）。",
        "acc_schematic": "示意几何，仅表达规划意图，不可量测，地图上以虚线绘制。",
        "load_failed": "{layer}：{message}",
        # present page (meeting mode)
        "pres_page": "会议演示",
        "pres_prev": "◀ 上一幕", "pres_next": "下一幕 ▶", "pres_position": "第 {i} / {n} 幕",
        "pres_town": "街镇",
        "pres_download": "下载本幕",
        "pres_png": "PNG 图片", "pres_pdf": "PDF（A4 横向）", "pres_html": "离线网页 HTML",
        "pres_note": "来源与精度",
        "pres_bad_scene": "链接中的参数 scene 不是已知场景，已忽略，显示第一幕。",
        "pres_bad_town": "链接中的参数 town 不是已知街镇代码，已忽略。",
        "pres_error": "本幕无法绘制：{message}",
        # data page: importing town boundaries (layers/import_towns.py)
        "imp_title": "导入街镇边界",
        "imp_help": "上传官方或 OpenStreetMap 的街镇边界（GeoJSON、GeoPackage、Shapefile 压缩包或 KML，"
                    "不超过 {mb} MB）。"
                    "先显示检查报告，不写入任何数据；确认后导入的街镇逐个替换示意划分，其余街镇围绕其重新生成。"
                    "可随时撤销，恢复原示意划分。",
        "imp_upload": "边界文件", "imp_accuracy": "精度",
        "imp_crs": "坐标系（文件未声明时填写 EPSG 代码，如 4549；GCJ-02 填 gcj02）",
        "imp_ready": "检查通过，可以导入。", "imp_rejected": "文件被拒绝，不会写入任何数据。",
        "imp_confirm": "需要确认：请先阅读下面的提示。",
        "imp_units": "各街镇结果", "imp_unmatched": "未能匹配松江街镇的要素",
        "imp_col_code": "统计代码", "imp_col_name": "名称", "imp_col_status": "状态", "imp_col_by": "匹配方式",
        "imp_col_label": "文件中的名称", "imp_col_supplied": "文件面积 (平方公里)", "imp_col_clipped": "区界外裁去",
        "imp_col_added": "补入碎片", "imp_col_area": "最终面积", "imp_col_official": "官方面积",
        "imp_imported": "已导入", "imp_schematic": "示意（重新生成）", "imp_by_code": "代码", "imp_by_name": "名称",
        "imp_check": "分区检查：重叠 {overlap} 平方米，与区界差异 {symdiff} 平方米；区界外裁去 {outside} 平方公里，"
                     "碎片与空隙 {slivers} 平方公里。",
        "imp_force": "确认按原样导入（忽略上述提示）",
        "imp_apply": "应用导入", "imp_applied": "已导入 {n} 个街镇，图层已重建。",
        "imp_revert": "撤销导入，恢复示意划分", "imp_reverted": "已撤销导入，示意划分已恢复。",
        "imp_current": "当前已导入 {n} 个街镇（{file}，{date}）。",
        "imp_none": "当前未导入边界：17 个街镇均为示意划分。",
        "imp_failed": "无法导入：{message}", "imp_download": "下载检查报告 (JSON)",
        "imp_off": "本服务器已关闭页面导入（环境变量 {env}）。管理员可在服务器上运行 python -m layers import-towns。",
        # URL parameters that were dropped (layers/map/state.py)
        "url_repeated": "参数 {key} 出现多次，已使用最后一个值。",
        "url_invalid": "参数 {key} 的值无效，已忽略：{why}",
        "url_unknown_layers": "参数 layers 中有 {n} 个未知图层，已忽略。",
        "url_filters_failed": "筛选参数无法读取，已清除筛选。",
        "url_why_type": "应为文本",
        "url_why_long": "值过长",
        "url_why_lang": "应为 zh 或 en",
        "url_why_basemap": "不是已知底图",
        "url_why_layers": "没有已知图层",
        "url_why_town": "应为 17 个街镇代码之一",
        "url_why_c": "应为松江附近的“纬度,经度”",
        "url_why_z": "缩放级别应为 8–18 的整数",
        "flt_unreadable": "筛选已忽略：无法读取用于核对的图层（{error}）。", "flt_not_mapping": "筛选已忽略：参数格式不对。",
        "flt_unknown": "已忽略未知的筛选参数 {key}。", "flt_long": "已忽略筛选“{name}”：值过长（{n} 个字符）。",
        "flt_bad_values": "已忽略筛选“{name}”中的未知值：{values}。", "flt_more": " 等另 {n} 个",
        "flt_many": "筛选“{name}”只使用前 {n} 个值。",
        # the in-page map (layers/app/mapview.js)
        "mv_layers": "图层", "mv_copy": "复制链接", "mv_copied": "已复制", "mv_fullscreen": "全屏",
        "mv_tiles_failed": "底图瓦片无法加载（可能未联网）；矢量图层照常显示。", "mv_failed": "地图无法加载。",
        "mv_mine": "我的图层",
        "id_title": "此处有什么", "id_hint": "点击地图上的任一点，这里列出该处的街镇、片区、规划结构、园区和最近的车站。",
        "id_where": "点击位置：北纬 {lat}，东经 {lon}", "id_nothing": "此处不在任何图层内。",
        "id_distance": "{m} 米", "id_approx": "≈ 按示意边界（近似）",
        "err_limit_time": "读取和检查此文件超过了允许的 {limit} 秒，已停止。请简化文件（减少要素或节点）后重试。",
        "err_limit_cpu": "读取和检查此文件超过了允许的 {limit} 秒计算时间，已停止。"
                         "请简化文件（减少要素或节点）后重试。",
        "err_limit_memory": "读取和检查此文件需要超过允许的 {limit} MB 内存，已停止。请简化文件后重试。",
        "err_unexpected": "发生了意外错误（事件编号 {id}，已记录在服务器日志中），没有任何数据被修改。"
                          "请把此编号告知管理员。",
        "err_disk": "数据无法写入（{reason}），没有任何数据被修改。请联系管理员。",
        "err_busy": "另一个导入或撤销正在进行，本次操作未执行。请刷新页面查看当前数据后重试。",
        "err_changed": "生成此报告后数据已被修改（另一个导入或撤销已应用），本次导入未执行。请重新检查文件后再应用。",
        "err_data": "数据状态不一致，已停止显示以免出错：{message}",
        "err_host": "此服务器不接受通过该地址（{host}）的访问。请使用管理员提供的地址。",
        "ul_outside_district": "此图层的要素都不在松江区内（最近处距区界 {km} 公里）：坐标系是否正确？",
        # meeting mode (layers/scenes, layers/app/present_page.py)
        "pres_first": "|◀",
        "pres_last": "▶|",
        "pres_first_help": "第一幕（Home）",
        "pres_last_help": "最后一幕（End）",
        "pres_fullscreen": "全屏演示",
        "pres_fullscreen_exit": "退出全屏（Esc）",
        "pres_fullscreen_hint": "全屏演示：→ / PageDown / 空格 下一幕，← / PageUp 上一幕，Home / End 首末幕，Esc 退出",
        "pres_keys": "翻页键：→ / PageDown / 空格 下一幕，← / PageUp 上一幕，Home / End；F 或“全屏演示”进入全屏，Esc 退出。",
        "pres_pack": "下载会议包",
        "pres_deck": "下载讲稿 PDF",
        "pres_files": "会议资料",
        "pres_paper": "纸张",
        "pres_build": "生成",
        "pres_building": "正在生成：{done} / {total}",
        "pres_built": "已生成（{seconds:.1f} 秒）",
        "pres_pack_help": "全部场景的 PNG、PDF、离线 HTML 与说明（zip）",
        "pres_deck_help": "一个多页 PDF：标题页（场景、来源、日期）加每幕一页",
        "dl_listed": "下载规划提及但未绘制的线路与未能定位的园区（CSV，含原因）",
        "ul_download": "下载自己的图层及其分街镇统计（GeoPackage）",
    },
    "en": {
        "language": "语言 / Language",
        "app_caption": "The spatial structure, zones, rail and industrial parks of Songjiang's 14th Five-Year Plan. "
                       "Dashed = schematic geometry (not for measurement); points with a dashed ring = approximate "
                       "position (the ring is the uncertainty radius). The no-basemap mode works offline.",
        "page_home": "Home", "page_map": "Map", "page_towns": "Town statistics", "page_plan": "Plan structure",
        "page_data": "Data sources",
        "headline": "Headline figures from the plan",
        "fig_target": "{year} target: ",
        "fig_source": "Source: {plan}, {ref}",
        "home_map": "Plan structure and zones (schematic)",
        "go_pages": "Pages",
        "controls": "Map settings", "basemap": "Basemap", "layers": "Layers", "filters": "Filters",
        "f_rail_status": "Rail status", "f_rail_mode": "Rail mode", "f_rail_line": "Line",
        "f_park_kind": "Park kind", "f_park_industry": "Industry", "f_zone": "Zone", "f_town": "Town",
        "search": "Find a place", "search_help": "Town, zone, station, line or park (Chinese, pinyin or English)",
        "search_none": "No matching place.", "search_pick": "Results",
        "search_found": "Zoomed to: {name}",
        "features_shown": "{n} features shown",
        "undrawn": "Lines the plan names that are not drawn", "unlocated": "Parks not located (listed, not drawn)",
        "none_listed": "None.",
        "exp_other": "Other", "exp_geom_line": "lines", "exp_geom_polygon": "polygons", "exp_geom_point": "points",
        "exp_metadata": "Layer metadata",
        "exp_rd_layer": "Layer", "exp_rd_features": "Features", "exp_rd_crs": "CRS", "exp_rd_release": "Release date",
        "exp_rd_filter": "Filter", "exp_rd_attribution": "Attribution", "exp_rd_licence": "Licence",
        "exp_rd_accuracy": "Accuracy", "exp_rd_plan": "Plan reference", "exp_rd_notes": "Notes",
        "exp_rd_styles": "Styles: the same-named .qml is a QGIS style (applied on open), the .sld an OGC style, in "
                         "the web map's colours; dashed = schematic geometry, not for measurement.",
        "share": "Share: “Copy link” at the top right of the map copies a link that restores the layers, filters, basemap, town and the current view.",
        "ul_title": "Add your own layer",
        "ul_upload": "Upload a vector file (GeoJSON, GeoPackage, zipped Shapefile, KML; up to {mb} MB)",
        "ul_help": "Shown in this session only, never saved on the server; the CRS is read from the file.",
        "ul_crs": "EPSG code if the file does not say its CRS (e.g. 4549, 4326)",
        "ul_loaded": "Shown on the map: {name} ({n} features)",
        "ul_dropped": "{n} features have nothing to draw (empty or NaN/infinite coordinates) and are left out; "
                      "{r} invalid geometries were repaired.",
        "ul_failed": "This file cannot be shown: {message}", "ul_summary": "Your layer in each town",
        "ul_schematic": "The town boundaries are a schematic partition: the figures per town are indicative "
                        "(measured in EPSG:4549).",
        "ul_name": "Town", "ul_count": "Features", "ul_count_share": "Share %", "ul_length_km": "Length km",
        "ul_length_km_share": "Length share %", "ul_area_km2": "Area km²", "ul_area_km2_share": "Area share %",
        "legend_colour": "Colour", "legend_range": "Range", "legend_towns": "Towns",
        "map_legend": "Legend", "map_accuracy": "Accuracy and status", "map_fullscreen": "Full screen",
        "map_fullscreen_exit": "Exit full screen",
        "map_my_layers": "My layers", "map_uploaded": "uploaded, not checked",
        "map_labels": "Labels", "ul_outside": "outside the towns",
        "dl_title": "Download layers (GIS formats)", "dl_format": "Format", "dl_crs": "Coordinate system",
        "dl_help_map": "The download holds what the map shows now: the layers switched on, with the current "
                       "filters. Every feature keeps its source, licence and accuracy.",
        "dl_help_data": "Choose layers to download in full (no filter). Every feature keeps its source, licence and "
                        "accuracy.",
        "dl_layers": "Layers", "dl_prepare": "Make the file", "dl_save": "Save {name}",
        "dl_nothing": "No layer chosen.", "dl_failed": "Cannot make the download: {message}",
        "dl_crs_only": "This format is WGS 84 longitude/latitude only (EPSG:4326). GCJ-02 is never exported.",
        "town_focus": "Focus town", "all": "All", "none_chosen": "None chosen (no layer shown)",
        "ul_button": "Choose a file",
        "no_town": "(none)",
        "statistic": "Statistic", "scheme": "Classification", "classes": "Classes",
        "scheme_quantiles": "Quantiles", "scheme_equal_interval": "Equal interval",
        "scheme_natural_breaks": "Natural breaks",
        "missing": "missing (no source found)", "schematic_note": "Note: {note}",
        "num_missing": "missing (no source found)", "unit_persons": "persons", "unit_km": "km", "unit_km2": "km²",
        "unit_m": "m", "unit_pct": "%", "unit_yi": "100 million yuan", "unit_density": "persons/km²",
        "stat_unavailable": "{label} (not available)",
        "stat_none": "No town has a value for this statistic (no source found), so it cannot be mapped.",
        "col_value": "Value", "col_statistic": "Statistic", "unit_count": "count",
        "col_description": "Description", "col_reason": "Reason",
        "src_census5": "5th national economic census (2023), see town_facts.csv",
        "src_nbs2022": "NBS 2022 statistical division codes", "src_census7": "7th national population census (2020)",
        "src_areas": "official areas of mixed years, each graded (town_facts.csv)",
        "src_computed": "computed by this project in EPSG:4549 from the map layers",
        "src_density": "persons employed (2023) ÷ schematic area; computed by this project in EPSG:4549",
        "stat_meta": "Unit: {unit}; year: {year}; source: {source}",
        "table": "Table", "chart": "Bar chart",
        "detail": "Town detail", "choose_town": "Choose a town",
        "facts": "Official facts", "contents": "What lies inside (schematic boundary)",
        "contents_real": "What lies inside (imported boundary: {accuracy})",
        "towns_banner": "The town boundaries are schematic: figures that depend on them are approximate (marked ≈). "
                        "Real boundaries can be imported on the Data page.",
        "towns_banner_partial": "{n} towns still have schematic boundaries: figures that depend on them are "
                                "approximate (marked ≈). Real boundaries can be imported on the Data page.",
        "towns_banner_link": "Import town boundaries",
        "approx_col": "≈", "approx_yes": "≈ approximate",
        "layer_title_towns_mixed": "Towns and subdistricts (partly schematic)",
        "layer_title_towns_real": "Towns and subdistricts (imported boundaries)",
        "town_heading_schematic": "{name} (schematic boundary)", "town_heading_real": "{name}",
        "zone_note_schematic": "Schematic: every member town is a generated cell",
        "zone_note_mixed": "Partly schematic: {names} generated, the other members imported",
        "zone_note_real": "Every member town has an imported boundary",
        "stat_unit_row": "statistical unit, no territory of its own", "district_total": "District total",
        "stations": "Stations", "lines": "Lines (km inside)", "parks": "Parks and key sites",
        "zone": "Zone", "plan_ref": "Plan reference",
        "compare": "Two towns side by side", "town_a": "Town A", "town_b": "Town B",
        "year_unknown": "—",
        "no_stats": "The towns layer could not be loaded, so no statistics can be computed.",
        "structure": "Spatial structure: one corridor, one axis, two cores", "zones": "The three zones",
        "members": "Member towns",
        "indicators": "The plan's 21 headline indicators",
        "ind_no": "No.", "ind_name": "Indicator (official name)", "ind_unit": "Unit", "ind_kind": "Kind",
        "ind_target": "2025 target", "ind_2020": "2020 value", "ind_2020_ref": "2020 value source",
        "ind_ref": "Plan reference", "ind_latest": "Latest value", "ind_latest_year": "Latest year",
        "ind_latest_ref": "Latest value source (article file and line)",
        "ind_note": "A 2020 value is listed only where chapter 1 of the plan gives one; otherwise it is shown as "
                    "missing, never estimated. A latest value is listed only where an article (seed) gives one "
                    "for the same definition.",
        "catalogue": "Data catalogue", "col_layer": "Layer", "col_source": "Source", "col_licence": "Licence",
        "col_accuracy": "Accuracy", "col_features": "Features", "col_crs": "CRS", "col_release": "Release date",
        "col_attribution": "Attribution", "col_date": "Data date", "col_plan_ref": "Plan reference",
        "accuracy_levels": "Accuracy levels",
        "acc_authoritative": "Official survey data; fit for measurement.",
        "acc_osm": "From OpenStreetMap; typically metres to tens of metres off.",
        "acc_provider": "From a map provider (converted from GCJ-02 to WGS84); about tens of metres off.",
        "acc_approximate": "Approximate position; drawn with a dashed ring of the uncertainty radius (accuracy_m).",
        "acc_schematic": "Schematic geometry showing plan intent only; not for measurement; drawn dashed.",
        "load_failed": "{layer}: {message}",
        # present page (meeting mode)
        "pres_page": "Present",
        "pres_prev": "◀ Previous", "pres_next": "Next ▶", "pres_position": "Scene {i} of {n}",
        "pres_town": "Town",
        "pres_download": "Download this scene",
        "pres_png": "PNG image", "pres_pdf": "PDF (A4 landscape)", "pres_html": "Offline HTML",
        "pres_note": "Sources and accuracy",
        "pres_bad_scene": "The link's scene parameter is not a known scene; it was ignored and the first scene is "
                          "shown.",
        "pres_bad_town": "The link's town parameter is not a known town code; it was ignored.",
        "pres_error": "This scene cannot be drawn: {message}",
        # data page: importing town boundaries (layers/import_towns.py)
        "imp_title": "Import town boundaries",
        "imp_help": "Upload official or OpenStreetMap boundaries of the towns (GeoJSON, GeoPackage, zipped Shapefile "
                    "or "
                    "KML, up to {mb} MB). A check report comes first and nothing is written; once applied, the "
                    "imported units replace their schematic cells one by one and the others are re-fitted around "
                    "them. Revert at any time to get the schematic partition back.",
        "imp_upload": "Boundary file", "imp_accuracy": "Accuracy",
        "imp_crs": "CRS (EPSG code when the file has none, e.g. 4549; gcj02 for GCJ-02)",
        "imp_ready": "Checks passed: ready to import.",
        "imp_rejected": "The file was rejected; nothing will be written.",
        "imp_confirm": "Needs confirmation: read the notice below first.",
        "imp_units": "Result per unit", "imp_unmatched": "Features matching no Songjiang unit",
        "imp_col_code": "Code", "imp_col_name": "Name", "imp_col_status": "Status", "imp_col_by": "Matched by",
        "imp_col_label": "Name in the file", "imp_col_supplied": "Supplied (km²)", "imp_col_clipped": "Cut off outside",
        "imp_col_added": "Slivers added", "imp_col_area": "Final area", "imp_col_official": "Official area",
        "imp_imported": "imported", "imp_schematic": "schematic (re-fitted)", "imp_by_code": "code",
        "imp_by_name": "name",
        "imp_check": "Partition check: overlaps {overlap} m², difference from the outline {symdiff} m²; {outside} km² "
                     "cut off outside the outline, {slivers} km² of slivers and gaps handed to neighbours.",
        "imp_force": "Import as it is (I have read the notice above)",
        "imp_apply": "Apply the import", "imp_applied": "Imported {n} unit(s); the layers were rebuilt.",
        "imp_revert": "Revert the import (back to the schematic towns)",
        "imp_reverted": "Import reverted: the schematic towns are back.",
        "imp_current": "{n} unit(s) currently imported ({file}, {date}).",
        "imp_none": "No boundaries imported: all 17 units are schematic.",
        "imp_failed": "Cannot import: {message}", "imp_download": "Download the check report (JSON)",
        "imp_off": "Importing from this page is switched off on this server ({env}). An administrator can run "
                   "python -m layers import-towns on the server.",
        # URL parameters that were dropped (layers/map/state.py)
        "url_repeated": "Parameter {key} was given more than once; the last value is used.",
        "url_invalid": "Ignored parameter {key}: {why}",
        "url_unknown_layers": "Ignored {n} unknown layer id(s) in parameter layers.",
        "url_filters_failed": "The filter parameters could not be read; filters cleared.",
        "url_why_type": "it should be text",
        "url_why_long": "the value is too long",
        "url_why_lang": "use zh or en",
        "url_why_basemap": "not a known basemap",
        "url_why_layers": "no known layer",
        "url_why_town": "use one of the 17 town codes",
        "url_why_c": "use lat,lon near Songjiang",
        "url_why_z": "zoom must be a whole number from 8 to 18",
        "flt_unreadable": "Filters ignored: the layers to check them against could not be read ({error}).",
        "flt_not_mapping": "Filters ignored: the parameters are not a mapping.",
        "flt_unknown": "Ignored unknown filter {key}.", "flt_long": "Ignored filter “{name}”: its value is too long ({n} characters).",
        "flt_bad_values": "Ignored unknown value(s) of filter “{name}”: {values}.", "flt_more": " and {n} more",
        "flt_many": "Filter “{name}”: only the first {n} values are used.",
        # the in-page map (layers/app/mapview.js)
        "mv_layers": "Layers", "mv_copy": "Copy link", "mv_copied": "Copied", "mv_fullscreen": "Full screen",
        "mv_tiles_failed": "Basemap tiles could not load (offline?); the vector layers are drawn as usual.",
        "mv_failed": "The map could not be loaded.", "mv_mine": "My layers",
        "id_title": "What is here", "id_hint": "Click anywhere on the map: the town, zone, plan elements, parks and "
                    "nearest stations at that point are listed here.",
        "id_where": "Clicked at {lat} N, {lon} E", "id_nothing": "This point lies in no layer.",
        "id_distance": "{m} m", "id_approx": "≈ on schematic boundaries (approximate)",
        "err_limit_time": "Reading and checking this file took longer than the {limit} s allowed; it was stopped. "
                          "Simplify the file (fewer features or vertices) and try again.",
        "err_limit_cpu": "Reading and checking this file needed more than the {limit} s of computing time allowed; it "
                         "was stopped. Simplify the file (fewer features or vertices) and try again.",
        "err_limit_memory": "Reading and checking this file needed more than the {limit} MB of memory allowed; it was "
                            "stopped. Simplify the file and try again.",
        "err_unexpected": "Something unexpected went wrong (incident {id}, logged on the server). Nothing was changed. "
                          "Tell the administrator this id.",
        "err_disk": "The data could not be written ({reason}); nothing was changed. Tell the administrator.",
        "err_busy": "Another import or revert is being applied right now; this one was not applied. Reload the page "
                    "to see the current data, then try again.",
        "err_changed": "The data changed since this report was made (another import or revert was applied); this "
                       "import was not applied. Check the file again, then apply.",
        "err_data": "The data is in an inconsistent state: {message}",
        "err_host": "This server does not accept requests for the address {host}. Use the address the administrator "
                    "gave you.",
        "ul_outside_district": "None of this layer's features lies in Songjiang District (the nearest is {km} km from "
                               "its outline): is the coordinate system right?",
        # meeting mode (layers/scenes, layers/app/present_page.py)
        "pres_first": "|◀",
        "pres_last": "▶|",
        "pres_first_help": "First scene (Home)",
        "pres_last_help": "Last scene (End)",
        "pres_fullscreen": "Present full screen",
        "pres_fullscreen_exit": "Leave full screen (Esc)",
        "pres_fullscreen_hint": "Full screen: → / PageDown / Space next, ← / PageUp previous, Home / End, Esc leaves",
        "pres_keys": "Keys: → / PageDown / Space next, ← / PageUp previous, Home / End; F or “Present full screen”, Esc leaves.",
        "pres_pack": "Download meeting pack",
        "pres_deck": "Download handout PDF",
        "pres_files": "Meeting files",
        "pres_paper": "Paper",
        "pres_build": "Build",
        "pres_building": "Building: {done} of {total}",
        "pres_built": "Built ({seconds:.1f} s)",
        "pres_pack_help": "Every scene as PNG, PDF and offline HTML, with a README (zip)",
        "pres_deck_help": "One multi-page PDF: a title page (scenes, sources, date) and one page per scene",
        "dl_listed": "Download the lines not drawn and the parks not located (CSV, with the reasons)",
        "ul_download": "Download your layer with its per-town summary (GeoPackage)",
    },
}


@functools.cache
def _data_translations() -> dict[str, dict[str, str]]:
    """Curated wordings of the notes the source data gives in one language (geodata/curation/translations.csv)."""
    path = paths.CURATION_DIR / "translations.csv"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        return {row["text"]: {"zh": row["zh"], "en": row["en"]} for row in csv.DictReader(fh)}


def pick_lang(text: str, lang: str = "zh") -> str:
    """A data text in ``lang``: the matching half of a bilingual "中文 / English" text, or its curated wording
    (geodata/curation/translations.csv); otherwise the text itself."""
    text = str(text)
    known = _data_translations().get(text)
    if known:
        return known.get(lang) or text
    zh, sep, en = text.partition(" / ")
    if not sep or not any("\u4e00" <= ch <= "\u9fff" for ch in zh) or any("\u4e00" <= ch <= "\u9fff" for ch in en):
        return text
    return en.strip() if lang == "en" else zh.strip()


def error_text(exc: BaseException, lang: str = "zh") -> str:
    """What a page shows for a project exception: its text in ``lang`` when it has an i18n key, else its message."""
    key = getattr(exc, "key", None)
    return t(key, lang, **getattr(exc, "params", {})) if key else str(exc)


def t(key: str, lang: str = "zh", /, **kwargs: object) -> str:
    """The string ``key`` in ``lang`` (zh when unknown), formatted with ``kwargs``; the key itself when missing."""
    table = STRINGS.get(lang, STRINGS["zh"])
    text = table.get(key, STRINGS["zh"].get(key, key))
    return text.format(**kwargs) if kwargs else text
