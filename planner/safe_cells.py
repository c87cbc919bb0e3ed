"""Formula-injection safety for text written into files a spreadsheet opens (CSV and XLSX).

Why: a planner opens plan and data files in Excel or LibreOffice. Text that begins with `=`, `+`, `-` or `@`
is taken for a formula there, and tab or carriage return at the start can smuggle one past a filter, so an id
or note like `=HYPERLINK("http://x","click")` coming from an input file would run as a formula
(OWASP "CSV injection"). The rule, applied to **text fields only**:

* CSV: `neutralise(text)` puts a leading single quote `'` before text that begins with `=`, `+`, `-`, `@`,
  tab or carriage return. Numbers are not text: a numeric column's `-3` is written as is, never quoted.
  Text that already begins with `'` gets one more, so `restore(neutralise(s)) == s` for every string and a
  reader (the checker, the plan workbook writer) can get the original back exactly.
* XLSX: the value is kept unchanged and written as a string cell (never a formula cell, even when it starts
  with `=`), with Excel's quote-prefix attribute set when it begins with one of those characters; the
  quote prefix is the spreadsheet's own form of the leading `'`, so editing the cell cannot turn it into
  a formula either, and the cell still holds the exact text. See `text_cell`.
"""

from __future__ import annotations

import re
from typing import Any

RISKY_FIRST = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# control characters that XLSX (XML 1.0) cannot store; openpyxl refuses them
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_risky(text: str) -> bool:
    """True when a spreadsheet could read this text as a formula (it begins with = + - @ tab or CR)."""
    return text.startswith(RISKY_FIRST)


def neutralise(text: str) -> str:
    """CSV form of a text cell: a leading `'` before risky text (and before text already starting with `'`)."""
    if is_risky(text) or text.startswith(QUOTE):
        return QUOTE + text
    return text


def restore(text: str) -> str:
    """Undo `neutralise`: the original text of a cell written by it (other text comes back unchanged)."""
    if text.startswith(QUOTE) and (is_risky(text[1:]) or text[1:].startswith(QUOTE)):
        return text[1:]
    return text


def xlsx_text(text: str) -> str:
    """Text an XLSX cell can hold: control characters XML forbids become U+FFFD (openpyxl would refuse them)."""
    return _ILLEGAL_XLSX.sub("\ufffd", text)


def text_cell(cell: Any, text: str) -> Any:
    """Put `text` into an openpyxl cell as a plain string, never a formula or an error value.

    openpyxl stores a string starting with `=` as a formula and `#N/A` as an error; forcing the string type
    keeps the exact text, and the quote-prefix style (Excel's leading `'`) keeps an edit from turning risky
    text into a formula.
    """
    cell.value = xlsx_text(text)
    cell.data_type = "s"
    if is_risky(text):
        cell.quotePrefix = True
    return cell
