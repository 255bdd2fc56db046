"""Numbers as people type them: "1,500", "1500" and "1 500.50" are the same number."""

import re
from decimal import Decimal, InvalidOperation

from django import forms

# Groups of three after a first group of one to three digits, by commas or (narrow) spaces.
GROUPED = re.compile(r"^[+-]?\d{1,3}([,\s\u00a0\u202f]\d{3})+(\.\d*)?$")


def plain(text) -> str:
    """`text` without its thousands separators, when it has them; as it was otherwise (so that
    "1,5" stays wrong rather than becoming 15)."""
    text = str(text).strip()
    return re.sub(r"[,\s\u00a0\u202f]", "", text) if GROUPED.match(text) else text


def parse(text) -> Decimal:
    """A Decimal from what a person typed; InvalidOperation when it is no number."""
    return Decimal(plain(text))


class GroupedDecimalField(forms.DecimalField):
    """A DecimalField that takes "1,500" as well as "1500" (a text input: a number input
    refuses the comma before the server sees it)."""

    widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def to_python(self, value):
        if isinstance(value, str):
            value = plain(value)
        return super().to_python(value)


__all__ = ["GroupedDecimalField", "InvalidOperation", "parse", "plain"]
