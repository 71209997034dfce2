"""The site registry as the departments keep it (站点台账): spreadsheets in, rows out.

Pure text and file handling, no database: an XLSX or CSV file becomes its rows, each a
mapping of our fields (名称, 类型, 统一社会信用代码, 地址, 所属区域, 经纬度, 负责人, 联系电话)
with the problems a row has on its own (a wrong check character, an unknown district,
a point outside Golmud). What a row means against the registry (new, an update, a
duplicate) is decided in ``sites.registry``.

The files are as people make them: a title merged across the top, headers in any order,
a header merged over two sub-columns (经纬度 over 经度 and 纬度), a district merged down
over its sites, extra columns, empty rows, full-width digits, numbers stored as numbers.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from inspect_app.domain import DISTRICTS, SITE_TYPES
from inspect_app.inputs import ALL_INVISIBLE
from inspect_app.sites import credit_code as credit

# Our fields and the headers the departments use for them (compared without blanks,
# full-width forms, "*" marks and bracketed notes such as "（必填）").
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "站点名称", "单位名称", "企业名称", "经营单位", "场所名称"),
    "site_type": ("类型", "站点类型", "场所类型", "行业类型", "类别"),
    "credit_code": ("统一社会信用代码", "社会信用代码", "信用代码"),
    "address": ("地址", "详细地址", "经营地址", "场所地址"),
    "district": ("所属区域", "区域", "所属乡镇", "乡镇", "辖区", "所在区域"),
    "point": ("经纬度", "坐标", "位置坐标"),
    "lat": ("纬度", "北纬"),
    "lon": ("经度", "东经"),
    "contact_name": ("负责人", "联系人", "法定代表人"),
    "contact_phone": ("联系电话", "电话", "手机", "联系方式", "手机号码"),
}
# The template's columns, in the order the notices list them.
TEMPLATE_HEADERS = (
    "名称",
    "类型",
    "统一社会信用代码",
    "地址",
    "所属区域",
    "经纬度",
    "负责人",
    "联系电话",
)
FIELD_LABELS = {
    "name": "名称",
    "site_type": "类型",
    "credit_code": "统一社会信用代码",
    "address": "地址",
    "district": "所属区域",
    "point": "经纬度",
    "lat": "纬度",
    "lon": "经度",
    "contact_name": "负责人",
    "contact_phone": "联系电话",
}
MAX_LENGTHS = {"name": 200, "address": 300, "contact_name": 64, "contact_phone": 32}
# Golmud's extent with a margin, the 唐古拉山镇 exclave on the plateau included: a point
# outside is a typing slip (lat and lon swapped, a digit lost) or another city's site.
GOLMUD_LAT = (32.0, 38.0)
GOLMUD_LON = (89.0, 96.8)
HEADER_SCAN_ROWS = 15
MAX_ROWS = 20_000
_ALIASES = {alias: name for name, aliases in HEADERS.items() for alias in aliases}
_NOTE = re.compile(r"[(（\[【].*?[)）\]】]")
_DECIMAL = re.compile(r"[-+]?\d+(?:\.\d+)?")
_DMS = re.compile(
    r"(\d+(?:\.\d+)?)\s*°\s*(?:(\d+(?:\.\d+)?)\s*['′’]\s*)?(?:(\d+(?:\.\d+)?)\s*(?:\"|″|”|'')\s*)?"
)


class SheetError(Exception):
    """The file cannot be read as a site registry (Chinese message for the office)."""


def file_name(name: str) -> str:
    """An uploaded file's name as shown and logged: no control or format characters."""
    return "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")[:200]


def normalise_text(value: str) -> str:
    """Text as stored and compared: invisible format characters dropped, full-width
    letters, digits, punctuation and spaces made half-width, ends stripped.

    The rule of site names everywhere (a name typed on a phone, one in a spreadsheet):
    "昆仑路１号加油站" and "昆仑路1号\u200b加油站" are the site "昆仑路1号加油站".
    """
    value = ALL_INVISIBLE.sub("", value).replace("\u3000", " ")
    return "".join(
        chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch for ch in value
    ).strip()


@dataclass
class SheetRow:
    """One row of the file: its number as the office sees it, our fields, its problems."""

    number: int
    values: dict[str, object]
    problems: list[str] = field(default_factory=list)


@dataclass
class Sheet:
    rows: list[SheetRow]
    columns: dict[str, str]  # our field -> the column letter it was read from
    ignored: list[str]  # headers of columns not used


def cell_text(value) -> str:
    """A cell as text: numbers kept whole (a phone stored as 13909791234.0), dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return normalise_text(str(value))


def header_field(text: str) -> str | None:
    key = _NOTE.sub("", normalise_text(text)).replace("*", "")
    key = re.sub(r"\s+", "", key)
    return _ALIASES.get(key)


def read(data: bytes) -> Sheet:
    """The rows of an XLSX or CSV file; SheetError when it holds no site registry."""
    if not data:
        raise SheetError("文件为空")
    if data[:4] == b"PK\x03\x04":
        grid = _xlsx_grid(data)
    else:
        grid = _csv_grid(data)
    return _rows(grid)


def _xlsx_grid(data: bytes) -> list[list[str]]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged upload fails in many ways inside openpyxl
        raise SheetError("无法读取该 Excel 文件，请另存为 .xlsx 或 .csv 后重试") from exc
    sheet = book.worksheets[0]
    if sheet.max_row > MAX_ROWS + HEADER_SCAN_ROWS:
        raise SheetError(f"一次最多导入 {MAX_ROWS} 行，请分批导入")
    grid = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    # A merged cell holds its value in its first cell only: every cell it covers gets it
    # (a header over two sub-columns, a district merged down over its sites).
    for merged in sheet.merged_cells.ranges:
        value = grid[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
            for c in range(merged.min_col - 1, merged.max_col):
                if c < len(grid[r]):
                    grid[r][c] = value
    book.close()
    return grid


def _csv_grid(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError("无法识别文件编码，请另存为 UTF-8 的 CSV 或 .xlsx")
    if "\x00" in text:
        raise SheetError("无法读取该文件，请上传 .xlsx 或 .csv")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        grid = [[cell_text(v) for v in row] for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:
        raise SheetError("无法读取该 CSV 文件，请检查引号和分隔符，或另存为 .xlsx") from exc
    if len(grid) > MAX_ROWS + HEADER_SCAN_ROWS:
        raise SheetError(f"一次最多导入 {MAX_ROWS} 行，请分批导入")
    return grid


def _header_map(row: list[str]) -> dict[int, str]:
    found: dict[int, str] = {}
    for index, text in enumerate(row):
        name = header_field(text) if text else None
        if name is not None and name not in found.values():
            found[index] = name
    return found


def _rows(grid: list[list[str]]) -> Sheet:
    best, best_index = {}, -1
    for index, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        mapping = _header_map(row)
        if len(mapping) > len(best):
            best, best_index = mapping, index
    if "name" not in best.values() or len(best) < 2:
        raise SheetError("未找到表头：第一张工作表的前 15 行中应有「名称」「所属区域」等列名")
    first_data = best_index + 1
    header_row = grid[best_index]
    # A second header row under a merged one: 经纬度 over 经度 | 纬度, the other headers
    # merged down over both rows (so repeated in it) or left empty.
    if first_data < len(grid):
        sub: dict[int, str] | None = {}
        for i, t in enumerate(grid[first_data]):
            name = header_field(t) if t else None
            if name in ("lat", "lon"):
                sub[i] = name
            elif t and t != (header_row[i] if i < len(header_row) else ""):
                sub = None
                break
        if sub:
            best = {i: n for i, n in best.items() if n != "point"}
            best.update(sub)
            first_data += 1
    if "district" not in best.values():
        raise SheetError("表头中缺少「所属区域」列")
    ignored = [t for i, t in enumerate(header_row) if t and i not in best]
    columns = {name: get_column_letter(i + 1) for i, name in best.items()}
    rows = []
    for offset, raw in enumerate(grid[first_data:]):
        values = dict.fromkeys(HEADERS, "")
        values.update({name: (raw[i] if i < len(raw) else "") for i, name in best.items()})
        if not any(values.values()):
            continue  # an empty row between blocks
        rows.append(_checked(SheetRow(first_data + offset + 1, values)))
    return Sheet(rows, columns, ignored)


def _checked(row: SheetRow) -> SheetRow:
    """The problems a row has by itself; its values put into the registry's form."""
    v = row.values
    problems = row.problems
    for name in ("name", "site_type", "district"):
        if not v.get(name):
            problems.append(f"「{FIELD_LABELS[name]}」为空")
    for name, limit in MAX_LENGTHS.items():
        if len(str(v.get(name) or "")) > limit:
            problems.append(f"「{FIELD_LABELS[name]}」超过 {limit} 字")
    if v.get("site_type") and v["site_type"] not in SITE_TYPES:
        problems.append(f"未知的站点类型「{v['site_type']}」，应为：{'、'.join(SITE_TYPES)}")
    district = str(v.get("district") or "")
    district = re.sub(r"^.*格尔木市", "", district).strip()
    v["district"] = district
    if district and district not in DISTRICTS:
        problems.append(f"未知的所属区域「{district}」，应为：{'、'.join(DISTRICTS)}")
    code = credit.normalise(str(v.get("credit_code") or ""))
    v["credit_code"] = code or None
    if code:
        why = credit.problem(code)
        if why:
            problems.append(f"{why}（{code}）")
    lat, lon, why = _point(v)
    v["lat"], v["lon"] = lat, lon
    v.pop("point", None)
    if why:
        problems.append(why)
    return row


def _point(values: dict) -> tuple[float | None, float | None, str | None]:
    """(lat, lon, problem) from 经纬度 in one cell or 经度 and 纬度 in two."""
    text = str(values.get("point") or "")
    if not text and (values.get("lat") or values.get("lon")):
        text = f"{values.get('lat') or ''},{values.get('lon') or ''}"
    if not text.strip(" ,"):
        return None, None, None
    if "°" in text:
        numbers = [
            float(d) + float(m or 0) / 60 + float(s or 0) / 3600 for d, m, s in _DMS.findall(text)
        ]
    else:
        numbers = [float(n) for n in _DECIMAL.findall(text)]
    if len(numbers) != 2:
        return None, None, f"经纬度「{text}」无法识别，应写作 36.4167,94.9033"
    # Golmud's latitudes and longitudes do not overlap: either order is understood.
    for lat, lon in (numbers, numbers[::-1]):
        if GOLMUD_LAT[0] <= lat <= GOLMUD_LAT[1] and GOLMUD_LON[0] <= lon <= GOLMUD_LON[1]:
            return round(lat, 6), round(lon, 6), None
    return None, None, f"坐标（{text}）不在格尔木市范围内"


def template_workbook() -> bytes:
    """The spreadsheet to fill in: the columns, one example row, the allowed values."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "站点台账"
    sheet.append(list(TEMPLATE_HEADERS))
    sheet.append(
        [
            "格尔木市昆仑路加油站",
            "加油站",
            "91632801MA7XXXXXXX",
            "格尔木市东城区昆仑路 18 号",
            "东城区",
            "36.4090,94.9170",
            "张三",
            "13909791234",
        ]
    )
    widths = (28, 16, 22, 34, 18, 20, 10, 16)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    lists = book.create_sheet("可选值")
    lists.append(["类型", "所属区域"])
    for index in range(max(len(SITE_TYPES), len(DISTRICTS))):
        lists.append(
            [
                SITE_TYPES[index] if index < len(SITE_TYPES) else None,
                DISTRICTS[index] if index < len(DISTRICTS) else None,
            ]
        )
    for column, values, source in (
        ("B", SITE_TYPES, "A"),
        ("E", DISTRICTS, "B"),
    ):
        rule = DataValidation(
            type="list", formula1=f"='可选值'!${source}$2:${source}${len(values) + 1}"
        )
        rule.error = "请从下拉列表中选择"
        sheet.add_data_validation(rule)
        rule.add(f"{column}2:{column}{MAX_ROWS + 1}")
    notes = book.create_sheet("填写说明")
    for line in (
        "每行一个站点；列的顺序可以调整，多余的列不会导入。",
        "名称、类型、所属区域必填；类型和所属区域请从下拉列表中选择。",
        "统一社会信用代码 18 位，系统会核对校验位；无证站点可以不填。",
        "经纬度写作“纬度,经度”，例如 36.4090,94.9170（也可分为“经度”“纬度”两列）。",
        "同一站点再次导入时按统一社会信用代码（或名称和地址）更新，不会重复登记。",
        "示例行（第 2 行）的信用代码不是真实代码，导入前请删除或改为实际数据。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
