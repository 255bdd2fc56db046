"""A CSV file as a table of text: its encoding found, its header and its rows with their lines.

Encodings: UTF-8 (with or without the byte-order mark Excel writes), else Windows-1252 (what
Excel's plain "CSV" writes on Windows); the table says which it read, so that an admin sees
"Windows-1252" when a file meant to be UTF-8 was not. Separator: a comma, or a semicolon or a tab
when the header holds more of those (Excel's CSV in locales with a decimal comma).
"""

import csv
import io
from dataclasses import dataclass

from salesperf.csv import text_of

MAX_IMPORT_BYTES = 20 * 1024 * 1024  # about 150,000 deals of a HubSpot export
BOMS_OF_UTF16 = (b"\xff\xfe", b"\xfe\xff")


class ImportFailed(Exception):
    """A file that cannot be imported at all (its message names the file), or an import refused
    as a whole: `errors` then lists every row error, "FILE, line N: field: reason", and
    `error_csv` holds those rows as the file has them, with their errors (to fix and re-import)."""

    def __init__(self, message: str, errors: list[str] | None = None, error_csv: bytes | None = None):
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])
        self.error_csv = error_csv


@dataclass
class Table:
    name: str
    encoding: str  # "UTF-8", "UTF-8 with BOM" or "Windows-1252"
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line of the file where the row begins, its cells)


def read_table(data: bytes, *, name: str) -> Table:
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFailed(
            f"{name}: {len(data) / 1024 / 1024:.1f} MB is over the {MAX_IMPORT_BYTES // 1024 // 1024} MB "
            "an import takes: split the file."
        )
    text, encoding = _decode(data, name)
    if not text.strip():
        raise ImportFailed(f"{name}: the file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    try:
        header = [cell.strip() for cell in next(reader)]
        if not any(header):
            raise ImportFailed(
                f"{name}: the first line should be the header (the columns' names); it is empty."
            )
        seen = set()
        for column in header:
            if column and column in seen:
                raise ImportFailed(f"{name}, line 1: the column '{column}' appears twice in the header.")
            seen.add(column)
        rows, line = [], reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((line, [text_of(cell.strip()) for cell in cells]))
            line = reader.line_num + 1
    except csv.Error as e:  # e.g. a cell over csv's size limit
        raise ImportFailed(f"{name}, line {reader.line_num}: not CSV ({e}).") from None
    return Table(name=name, encoding=encoding, header=header, rows=rows)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith(BOMS_OF_UTF16):
        raise ImportFailed(f"{name}: the file is UTF-16 text: save it as 'CSV UTF-8' and upload that.")
    if data.startswith(b"\xef\xbb\xbf"):
        text, encoding = _text(data[3:], "utf-8", name), "UTF-8 with BOM"
    else:
        try:
            text, encoding = data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            text, encoding = _text(data, "cp1252", name), "Windows-1252"
    if "\x00" in text:  # no CSV text holds NUL, and PostgreSQL would refuse it
        raise ImportFailed(f"{name}: not CSV text (it holds NUL bytes): save it as 'CSV UTF-8'.")
    return text, encoding


def _text(data: bytes, codec: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ImportFailed(
            f"{name}, line {line}: not text in UTF-8 or Windows-1252 (byte {data[e.start]:#04x}): "
            "save it as 'CSV UTF-8'."
        ) from None


def _separator(text: str) -> str:
    first = text.split("\n", 1)[0]
    return max([",", ";", "\t"], key=first.count)
