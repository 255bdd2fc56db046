"""CSV files a spreadsheet may open: no cell is run as a formula (OWASP, "CSV Injection").

A text cell that begins with =, +, -, @, a tab or a carriage return gets a leading apostrophe, so
Excel, LibreOffice and Google Sheets show it as text; a number stays as it is (−5.00 is a
negative number, not a formula). Every CSV the app writes goes through `writer`.
https://owasp.org/www-community/attacks/CSV_Injection
"""

import csv
import re
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def cell(value) -> str:
    """`value` as a CSV cell that no spreadsheet runs."""
    text = value if isinstance(value, str) else str(value)
    if isinstance(value, int | float | Decimal) or NUMBER.fullmatch(text):
        return text
    # Text escaped so already ('=1) gets another apostrophe, so that `text_of` gives it back.
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def text_of(cell_text: str) -> str:
    """What `cell` was given: an import reads back what an export wrote."""
    if cell_text.startswith("'") and cell_text.lstrip("'").startswith(FORMULA_STARTS):
        return cell_text[1:]
    return cell_text


class _Writer:
    def __init__(self, out):
        self._out = out

    def writerow(self, row):
        return self._out.writerow([cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(stream, **kwargs) -> _Writer:
    """csv.writer(stream, **kwargs) whose rows are written through `cell`."""
    return _Writer(csv.writer(stream, **kwargs))
