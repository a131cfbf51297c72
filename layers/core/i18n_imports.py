"""The import report's sentences, zh and en: part of the one dictionary per language (merged into
:data:`layers.core.i18n.STRINGS`), kept here so that module stays readable. Keys start with ``imr_``; a parameter
named ``<name>_key`` is itself a key, worded in the same language and passed as ``<name>``."""
from __future__ import annotations

IMPORT_STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "imr_field_missing": "文件中没有用作{what}的字段 {given}；文件的字段为：{fields}。",
        "imr_what_code": "9 位统计代码", "imr_what_name": "名称",
        "imr_none": "（无）",
        "imr_replaces": "应用本次导入将替换当前已导入的边界（{n} 个街镇）。",
        "imr_empty": "{file} 中没有任何要素。",
        "imr_vertices": "{file} 共有 {n} 个节点；导入最多处理 {limit} 个。"
                        "请先简化边界（如在 QGIS 中按 1 米简化）再导入。",
        "imr_no_field": "没有字段包含代码或名称（字段：{fields}）：请用 --code-field / --name-field 指定。",
        "imr_markup": "属性文本中含有 HTML/脚本标记（字段：{fields}）；它们按纯文本保存，绝不会作为 HTML 显示。",
        "imr_coordinates": "{n} 个要素的坐标不是数字（NaN 或无穷大），已被拒绝：{features}。"
                           "请修正坐标后重新导入。",
        "imr_no_polygons": "几何类型不对：{file} 中没有面要素（发现：{kinds}）；"
                           "街镇边界必须是 Polygon 或 MultiPolygon。",
        "imr_wrong_type": "{n} 个几何类型不对的要素（{kinds}）已被拒绝；边界必须是面。",
        "imr_repaired": "无效几何已用 make_valid 修复：{features}",
        "imr_far": "这些要素离松江区最近处也有 {km} 公里：文件不是松江的，或坐标系不对"
                   "（用 --crs EPSG 指定正确的坐标系）。",
        "imr_names": "{n} 个要素未能对应松江的任何街镇（按 {code_field} 中的 9 位代码或 {name_fields} 中的名称匹配）："
                     "{labels}。{then}",
        "imr_names_skipped": "这些要素将被跳过。",
        "imr_names_nothing": "无法导入：请确认文件是松江的街镇边界，或用 --code-field/--name-field 指定字段。",
        "imr_no_code_field": "（无代码字段）", "imr_no_name_field": "（无名称字段）",
        "imr_outside": "位于区界之外，已拒绝：{items}。",
        "imr_duplicates": "街镇重复：{items}。每个街镇只保留一个要素（合并各部分）后重新导入。",
        "imr_nothing": "没有可导入的要素。",
        "imr_bd09": "这些边界看起来是声明为 WGS 84 的 BD-09（百度）坐标：按原样有 {given} 平方公里在区界外，"
                    "由 BD-09 转为 WGS 84 后为 {baidu} 平方公里（由 GCJ-02 转换后为 {shifted} 平方公里）。"
                    "请先转为 WGS 84 再导入，或用 --force 按原样导入。",
        "imr_gcj02": "这些边界看起来是声明为 WGS 84 的 GCJ-02 坐标：沿 GCJ-02 偏移方向偏离区界约 {shift} 米"
                     "（按原样有 {given} 平方公里在区界外，由 GCJ-02 转为 WGS 84 后为 {shifted} 平方公里）。"
                     "请用 --crs gcj02 重新导入以转换，或用 --force 按原样导入。",
        "imr_gcj02_unsure": "GCJ-02 检查无法判断：没有导入的街镇到达区界。",
        "imr_ref_point": "导入的{name}离其参考点（{ref}）{m} 米：是否是正确的街镇？",
        "imr_refit": "未提供的街镇无法围绕导入的街镇重新生成：{error}",
        "imr_overlaps": "导入的街镇互相重叠（代码较小者保留重叠部分）：{items}。",
        "imr_gaps": "导入街镇之间或沿区界有 {n} 处空隙，共 {total} 平方公里（最大 {largest} 平方公里，给了{to}），"
                    "已交给共用边界最长的相邻街镇。",
        "imr_moved": "{name}（未提供）的参考点位于{where}；其示意划分从最近的空闲点 {m} 米外生成。",
        "imr_moved_inside": "导入的{inside}之内", "imr_moved_sliver": "一块碎片中",
        "imr_summary": "{n} 个街镇按“{accuracy}”导入；其余 {rest} 个保持示意划分，并围绕其重新生成。",
        "imr_acc_authoritative": "权威", "imr_acc_osm": "OpenStreetMap", "imr_acc_provider": "地图服务商",
    },
    "en": {
        "imr_field_missing": "The file has no field {given} for the {what}; its fields are: {fields}.",
        "imr_what_code": "9-digit code", "imr_what_name": "name",
        "imr_none": "(none)",
        "imr_replaces": "Applying this import replaces the current one ({n} units).",
        "imr_empty": "{file} holds no features.",
        "imr_vertices": "{file} has {n} vertices; an import is re-fitted from at most {limit}. Simplify the boundaries "
                        "(e.g. by 1 m in QGIS) and import again.",
        "imr_no_field": "No field holds a code or a name (fields: {fields}): name them with --code-field / "
                        "--name-field.",
        "imr_markup": "Attribute strings contain HTML/script markup (fields: {fields}); they are kept as plain text "
                      "and never rendered as HTML.",
        "imr_coordinates": "{n} feature(s) have coordinates that are not numbers (NaN or infinity) and were rejected: "
                           "{features}. Fix their coordinates and import again.",
        "imr_no_polygons": "Wrong geometry type: {file} holds no polygons (found: {kinds}); town boundaries must be "
                           "Polygon or MultiPolygon features.",
        "imr_wrong_type": "{n} feature(s) of the wrong geometry type ({kinds}) were rejected; boundaries must be "
                          "polygons.",
        "imr_repaired": "Invalid geometry repaired with make_valid: {features}",
        "imr_far": "The features lie {km} km from Songjiang District at the nearest: the file is somewhere else, or "
                   "its CRS is wrong (give the right one with --crs EPSG).",
        "imr_names": "{n} feature(s) name no unit of Songjiang (matched by the 9-digit code in {code_field} or the "
                     "name in {name_fields}): {labels}. {then}",
        "imr_names_skipped": "They are skipped.",
        "imr_names_nothing": "Nothing can be imported: check the file is of Songjiang's towns and subdistricts, or "
                             "name the fields with --code-field/--name-field.",
        "imr_no_code_field": "(no code field)", "imr_no_name_field": "(no name field)",
        "imr_outside": "Rejected as lying outside the district: {items}.",
        "imr_duplicates": "Duplicate units: {items}. Keep one feature per unit (dissolve the parts) and import again.",
        "imr_nothing": "No feature can be imported.",
        "imr_bd09": "The boundaries look like BD-09 (Baidu) coordinates declared as WGS 84: {given} km² lie outside "
                    "the district outline as given, {baidu} km² after converting BD-09 → WGS 84 ({shifted} km² after "
                    "GCJ-02 → WGS 84). Convert them to WGS 84 before importing, or import with --force to keep them "
                    "as they are.",
        "imr_gcj02": "The boundaries look like GCJ-02 coordinates declared as WGS 84: they sit about {shift} m off the "
                     "district outline along the GCJ-02 shift ({given} km² outside the outline as given, {shifted} km² "
                     "after converting GCJ-02 → WGS 84). Re-import with --crs gcj02 to convert them, or with --force "
                     "to keep them as they are.",
        "imr_gcj02_unsure": "The GCJ-02 check was inconclusive: no imported unit reaches the district outline.",
        "imr_ref_point": "The imported {name} lies {m} m from its reference point ({ref}): is it the right unit?",
        "imr_refit": "The units not supplied could not be re-fitted around the imported ones: {error}",
        "imr_overlaps": "Imported units overlap (the lower code keeps the overlap): {items}.",
        "imr_gaps": "{n} gap(s) between imported units or along the outline, {total} km² in all (largest {largest} "
                    "km², given to {to}), were handed to the neighbour sharing the longest boundary.",
        "imr_moved": "The reference point of {name} (not supplied) lies {where}; its schematic cell was grown from "
                     "the nearest free point, {m} m away.",
        "imr_moved_inside": "inside the imported {inside}", "imr_moved_sliver": "in a sliver",
        "imr_summary": "{n} unit(s) imported as {accuracy}; {rest} stay schematic and are re-fitted around them.",
        "imr_acc_authoritative": "authoritative", "imr_acc_osm": "osm", "imr_acc_provider": "provider",
    },
}
