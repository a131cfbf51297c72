"""The import report's sentences and why an uploaded file could not be read, zh and en: part of the one
dictionary per language (merged into :data:`layers.core.i18n.STRINGS`), kept here so that module stays readable.
Keys start with ``imr_`` (the report), ``upl_`` (the upload) or ``apl_`` (why an apply or revert was refused,
:mod:`layers.imports.apply`); a parameter named ``<name>_key`` is itself a key,
worded in the same language and passed as ``<name>``."""
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
        "imr_refit": "未提供的街镇无法围绕导入的街镇重新生成。",
        "imr_overlaps": "导入的街镇互相重叠（代码较小者保留重叠部分）：{items}。",
        "imr_gaps": "导入街镇之间或沿区界有 {n} 处空隙，共 {total} 平方公里（最大 {largest} 平方公里，给了{to}），"
                    "已交给共用边界最长的相邻街镇。",
        "imr_moved": "{name}（未提供）的参考点位于{where}；其示意划分从最近的空闲点 {m} 米外生成。",
        "imr_moved_inside": "导入的{inside}之内", "imr_moved_sliver": "一块碎片中",
        "imr_summary": "{n} 个街镇按“{accuracy}”导入；其余 {rest} 个保持示意划分，并围绕其重新生成。",
        "imr_acc_authoritative": "权威", "imr_acc_osm": "OpenStreetMap", "imr_acc_provider": "地图服务商",
        # Why an uploaded file could not be read (TownImportError.key); GDAL's, PROJ's or Python's own words stay
        # in the folded technical details. {file} and other names come from the user's file: they are data.
        "upl_details": "技术细节",
        "upl_other": "无法读取 {file}。",
        "upl_no_name": "请给出文件名：扩展名决定格式（.geojson、.gpkg、.zip、.kml）。",
        "upl_cannot_open": "无法打开 {file}：请检查路径。",
        "upl_format": "不支持 {file} 的格式：请导入 GeoJSON（.geojson）、GeoPackage（.gpkg）、"
                      "压缩的 Shapefile（.zip）或 KML（.kml）。",
        "upl_too_big": "{file} 大小为 {size}，超过上限 {limit}。"
                       "17 个街镇的边界远小于此：请简化几何，或只保留松江的街镇。",
        "upl_blank": "{file} 是空文件：请选择完整的文件。",
        "upl_not_its_format": "{file} 的内容与其扩展名所示的格式不符，未读取任何内容。",
        "upl_unreadable": "无法读取 {file}：文件可能不完整或已损坏，或内容与扩展名所示的格式不符。"
                          "请重新导出或下载完整的文件。",
        "upl_infinite": "{file} 中有不可能是坐标的数字（无穷大或溢出）：请修正坐标后重新导入。",
        "upl_not_utf8": "{file} 不是 UTF-8 文本，而 GeoJSON 必须使用 UTF-8 编码：请另存为 UTF-8 后重新导入。",
        "upl_nested": "{file} 的嵌套层级过深，不是边界文件。未导入任何内容。",
        "upl_bad_json": "{file} 不是有效的 JSON：第 {line} 行第 {col} 列有语法错误，请修正后重新导入。",
        "upl_truncated": "{file} 在数据中途结束，看起来不完整（下载或复制中断？）：请获取完整的文件。",
        "upl_crs_link": "{file} 用链接或网址声明坐标系，服务器不会去获取：请删除 crs 成员（GeoJSON 默认即 WGS 84），"
                        "或改为 EPSG 名称。",
        "upl_not_geojson": "{file} 是 JSON，但不是 GeoJSON 要素集合：请把边界导出为 GeoJSON 要素。",
        "upl_not_gpkg": "{file} 不是可读取的 GeoPackage（已损坏、不完整，或是其他格式）：请重新导出为 GeoPackage。",
        "upl_gpkg_unsafe": "{file} 不是普通的 GeoPackage：其中有导入不接受的数据库对象"
                           "（视图、触发器、虚拟表、计算列或过多的表）。"
                           "请只把图层本身导出为新的 GeoPackage 后重新导入。",
        "upl_no_layers": "{file} 中没有任何图层。",
        "upl_no_placemarks": "{file} 中没有任何地标要素。",
        "upl_not_kml": "{file} 不是 KML：其根元素不是 kml。未读取任何内容。",
        "upl_kml_dtd": "{file} 声明了 DTD 或 XML 实体，KML 用不到它们，而且可被用来攻击解析器，因此未解析："
                       "请重新导出不含它们的 KML。",
        "upl_kml_vrt": "{file} 指向 GDAL 数据源或虚拟路径，KML 从不这样做，因此未解析。",
        "upl_bad_zip": "{file} 不是有效的 zip 文件（已损坏或不完整？）：请重新打包或重新下载。",
        "upl_zip_unsafe": "{file} 中有不安全的路径（含“..”、绝对路径或链接），未解压任何内容："
                          "请把 Shapefile 的各个文件放在 zip 的最上层后重新导入。",
        "upl_zip_too_big": "{file} 解压后为 {size}，超过上限 {limit}。未解压任何内容。",
        "upl_zip_method": "{file} 中的 {member} 使用了服务器无法解压的压缩方式：请用常规压缩方式重新打包。",
        "upl_zip_encrypted": "{file} 中的 {member} 设有密码：请不加密码重新打包 Shapefile。",
        "upl_zip_member_damaged": "{file} 中的 {member} 已损坏（校验值或数据有误）：请重新打包 Shapefile。",
        "upl_no_shp": "{file} 中没有 .shp 文件：zip 中须有一个完整的 Shapefile（.shp、.shx、.dbf、.prj、.cpg）；"
                      "GeoJSON、GeoPackage 和 KML 文件请直接上传。",
        "upl_several_shp": "{file} 中有多个 Shapefile：每个 zip 只放一个图层。",
        "upl_no_dbf": "{file} 中有 {shp}，但缺少 .dbf：.dbf 存放识别街镇所需的属性（代码和名称）。"
                      "请把 Shapefile 的全部文件（.shp、.shx、.dbf、.prj、.cpg）一起打包。",
        "upl_no_shx": "{file} 中有 {shp}，但缺少 .shx（形状索引）：请把 Shapefile 的全部文件"
                      "（.shp、.shx、.dbf、.prj、.cpg）一起打包。",
        "upl_no_prj": "{file} 中没有 .prj，{shp} 的坐标系未知：请把 .prj 一并打包，或在“坐标系”中填写 EPSG 代码"
                      "（如 4549 为 CGCS2000 / 3 度带中央经线 120°E，4326 为 WGS 84）。",
        "upl_shp_part": "{file} 中的 Shapefile 已损坏：其 .shp、.shx 或 .dbf 不是有效的组成文件。"
                        "请重新打包。未读取任何内容。",
        "upl_prj": "{file} 中 {shp} 的 .prj 不是可识别的地理或投影坐标系：请在“坐标系”中填写 EPSG 代码（如 4549），"
                   "或修正 .prj。",
        "upl_no_crs": "{file} 没有说明其坐标系：请在“坐标系”中填写 EPSG 代码（如 4549 为 CGCS2000 / 3 度带中央经线 "
                      "120°E，4326 为 WGS 84）。",
        "upl_crs_unknown": "无法识别坐标系 {crs}：请填写 EPSG 代码，如 4326（WGS 84）、4490（CGCS2000）或 4549"
                           "（CGCS2000 / 3 度带中央经线 120°E），或填写 gcj02。",
        "upl_crs_unusable": "坐标系 {crs} 无法转换为地球上的 WGS 84 经纬度："
                            "请用 EPSG 代码给出文件的实际坐标系（如 4549 或 4326）。",
        "upl_crs_convert": "{file} 的坐标无法从其声明的坐标系转换为 WGS 84：请用 EPSG 代码给出文件的实际坐标系。",
        "upl_latlon": "{file} 的坐标是“纬度、经度”顺序，而松江位于东经约 121.2°、北纬约 31.0°："
                      "请交换两个数（经度在前）后重新导入。",
        "upl_not_degrees": "{file} 声明为经纬度坐标系，但其坐标不是经纬度：请用 EPSG 代码给出实际坐标系（如 4549）。",
        "upl_vertices": "{file} 有 {n} 个节点，超过上限 {limit}：请先简化几何（如在 QGIS 中），或只保留松江的街镇。",
        # Why an apply or revert was refused (TownImportError.key from layers.imports.apply); the command line keeps
        # printing the English message, which the page folds under the technical details.
        "apl_rejected": "{file} 未通过检查，未写入任何内容：请先修正上文列出的错误。",
        "apl_confirm": "未应用，未写入任何内容：检查结果中有需要确认的提示（见上文）。请阅读后勾选确认，再应用。",
        "apl_no_units": "检查报告中没有可导入的街镇，未写入任何内容。",
        "apl_stale": "此检查报告由旧版本程序生成，未应用：请重新检查文件。",
        "apl_no_version": "没有版本 {version}（最新为版本 {newest}），未作任何更改：请从导入历史中选择一个版本。",
        "apl_nothing_to_revert": "当前没有可撤销的导入，未作任何更改。",
        "apl_other": "操作未能完成，没有任何数据被修改。",
        "apl_revert_failed": "无法撤销：{message}",
        "apl_revert_changed": "打开此页面后，数据已被另一个导入或撤销修改，本次撤销未执行。"
                              "请刷新页面查看当前版本后再选择。",
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
        "imr_refit": "The units not supplied could not be re-fitted around the imported ones.",
        "imr_overlaps": "Imported units overlap (the lower code keeps the overlap): {items}.",
        "imr_gaps": "{n} gap(s) between imported units or along the outline, {total} km² in all (largest {largest} "
                    "km², given to {to}), were handed to the neighbour sharing the longest boundary.",
        "imr_moved": "The reference point of {name} (not supplied) lies {where}; its schematic cell was grown from "
                     "the nearest free point, {m} m away.",
        "imr_moved_inside": "inside the imported {inside}", "imr_moved_sliver": "in a sliver",
        "imr_summary": "{n} unit(s) imported as {accuracy}; {rest} stay schematic and are re-fitted around them.",
        "imr_acc_authoritative": "authoritative", "imr_acc_osm": "osm", "imr_acc_provider": "provider",
        "upl_details": "Technical details",
        "upl_other": "{file} cannot be read.",
        "upl_no_name": "Give the file's name: its extension says the format (.geojson, .gpkg, .zip, .kml).",
        "upl_cannot_open": "Cannot open {file}: check the path.",
        "upl_format": "{file} is not in a supported format: import GeoJSON (.geojson), GeoPackage (.gpkg), a zipped "
                      "Shapefile (.zip) or KML (.kml).",
        "upl_too_big": "{file} is {size}; the limit is {limit}. Boundaries of 17 units need far less: simplify the "
                       "geometry or keep only Songjiang's units.",
        "upl_blank": "{file} is empty: choose the complete file.",
        "upl_not_its_format": "{file} is not what its extension says; nothing was read.",
        "upl_unreadable": "{file} cannot be read: it may be incomplete or damaged, or not in the format its "
                          "extension says. Export or download the complete file again.",
        "upl_infinite": "{file} holds a number no coordinate can be (infinite or overflowing): fix the coordinates "
                        "and import again.",
        "upl_not_utf8": "{file} is not UTF-8 text, and GeoJSON must be UTF-8: save it as UTF-8 and import again.",
        "upl_nested": "{file} is nested too deeply to be a boundary file. Nothing was imported.",
        "upl_bad_json": "{file} is not valid JSON: there is a syntax error at line {line}, column {col}; fix it and "
                        "import again.",
        "upl_truncated": "{file} ends in the middle of the data, so it looks truncated (an interrupted download or "
                         "copy?): get the complete file.",
        "upl_crs_link": "{file} declares its coordinate system as a link or URL, which the server does not fetch: "
                        "remove the crs member (GeoJSON is WGS 84) or give an EPSG name.",
        "upl_not_geojson": "{file} is JSON but not a GeoJSON feature collection: export the boundaries as GeoJSON "
                           "features.",
        "upl_not_gpkg": "{file} is not a readable GeoPackage (damaged, truncated or another format): export it as a "
                        "GeoPackage again.",
        "upl_gpkg_unsafe": "{file} is not a plain GeoPackage: it holds database objects an import does not accept "
                           "(views, triggers, virtual tables, computed columns or too many tables). Export just the "
                           "layer to a new GeoPackage and import again.",
        "upl_no_layers": "{file} holds no layers.",
        "upl_no_placemarks": "{file} holds no placemarks.",
        "upl_not_kml": "{file} is not KML: its root element is not kml. Nothing was read.",
        "upl_kml_dtd": "{file} declares a DTD or XML entities, which KML does not use and which can be used to attack "
                       "a parser, so it was not parsed: export the KML again without them.",
        "upl_kml_vrt": "{file} names a GDAL data source or virtual path, which KML never does, so it was not parsed.",
        "upl_bad_zip": "{file} is not a valid zip file (damaged or truncated?): zip or download it again.",
        "upl_zip_unsafe": "{file} holds entries with unsafe paths ('..', absolute paths or links), so nothing was "
                          "extracted: zip the shapefile's files at the top level and import again.",
        "upl_zip_too_big": "{file} would unpack to {size}; the limit is {limit}. Nothing was extracted.",
        "upl_zip_method": "{member} in {file} is compressed with a method the server cannot unpack: zip it again "
                          "with the usual compression.",
        "upl_zip_encrypted": "{member} in {file} is password-protected: zip the shapefile without a password.",
        "upl_zip_member_damaged": "{member} in {file} is damaged (wrong checksum or data): zip the shapefile again.",
        "upl_no_shp": "{file} holds no .shp file: a zip must hold one complete shapefile (.shp, .shx, .dbf, .prj, "
                      ".cpg); upload GeoJSON, GeoPackage and KML files directly.",
        "upl_several_shp": "{file} holds several shapefiles: zip one layer per file.",
        "upl_no_dbf": "{file} has {shp} but no .dbf: the .dbf holds the attributes (codes and names) that identify "
                      "the units. Zip the shapefile with all of its files (.shp, .shx, .dbf, .prj, .cpg).",
        "upl_no_shx": "{file} has {shp} but no .shx (the shape index): zip the shapefile with all of its files "
                      "(.shp, .shx, .dbf, .prj, .cpg).",
        "upl_no_prj": "{file} has no .prj, so the coordinate system of {shp} is unknown: add the .prj to the zip, or "
                      "give the CRS as an EPSG code (e.g. 4549 for CGCS2000 / 3-degree GK CM 120E, 4326 for WGS 84).",
        "upl_shp_part": "The shapefile in {file} is damaged: its .shp, .shx or .dbf is not a valid part. Zip it "
                        "again. Nothing was read.",
        "upl_prj": "The .prj of {shp} in {file} is not a geographic or projected coordinate system PROJ can read: "
                   "give the CRS as an EPSG code (e.g. 4549) or fix the .prj.",
        "upl_no_crs": "{file} does not say its coordinate system: give it as an EPSG code (e.g. 4549 for CGCS2000 / "
                      "3-degree GK CM 120E, 4326 for WGS 84).",
        "upl_crs_unknown": "Unknown coordinate system {crs}: give an EPSG code such as 4326 (WGS 84), 4490 "
                           "(CGCS2000) or 4549 (CGCS2000 / 3-degree GK CM 120E), or gcj02.",
        "upl_crs_unusable": "The coordinate system {crs} cannot be converted to WGS 84 longitude/latitude on Earth: "
                            "give the file's real CRS as an EPSG code (e.g. 4549 or 4326).",
        "upl_crs_convert": "The coordinates of {file} cannot be converted from its declared coordinate system to "
                           "WGS 84: give the file's real CRS as an EPSG code.",
        "upl_latlon": "The coordinates of {file} are in latitude/longitude order, but Songjiang lies at longitude "
                      "≈121.2 E, latitude ≈31.0 N: swap the two numbers (longitude first) and import again.",
        "upl_not_degrees": "{file} says its coordinates are longitude/latitude, but they are not: give the real CRS "
                           "as an EPSG code (e.g. 4549).",
        "upl_vertices": "{file} has {n} vertices; the limit is {limit}. Simplify the geometry (e.g. in QGIS) or "
                        "keep only Songjiang's units.",
        "apl_rejected": "{file} did not pass the check; nothing was written. Fix the errors listed above first.",
        "apl_confirm": "Not applied, nothing was written: the check found something that needs your confirmation "
                       "(see above). Read it, tick the confirmation, then apply.",
        "apl_no_units": "The check report holds no units to import; nothing was written.",
        "apl_stale": "This check report was made by an older version of the program; nothing was applied. Check "
                     "the file again.",
        "apl_no_version": "There is no version {version} (the newest is {newest}); nothing was changed. Choose a "
                          "version from the import history.",
        "apl_nothing_to_revert": "There was no import to revert; nothing was changed.",
        "apl_other": "The change could not be made; nothing was changed.",
        "apl_revert_failed": "Cannot revert: {message}",
        "apl_revert_changed": "The data changed since this page was opened (another import or revert was applied); "
                              "nothing was reverted. Reload the page to see the current version, then choose again.",
    },
}
