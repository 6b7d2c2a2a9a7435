"""Text is text in the workbooks we write: no client string becomes a formula or breaks the file.

Why: openpyxl turns any string that starts with "=" into a formula (a client named
`=HYPERLINK("http://x.example","click")` became a live link in scores.xlsx), strings such as
"#N/A" into error cells, and refuses XML control characters with an IllegalCharacterError that
names no field. `safe_frame` escapes what XML cannot hold (visibly, as \\x1b, \\ud83c) before the
frame is written; `text_cells` types every string cell as text after it is written.
"""

from __future__ import annotations

import re
from typing import Any

# What an XML 1.0 document cannot contain (tab, newline and carriage return are fine).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str) -> str:
    """`value` with every character XML cannot hold shown as a visible escape (\\x1b, \\ud83c)."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                            else f"\\u{ord(m.group()):04x}", value)


def _clean(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) and _XML_ILLEGAL.search(value) else value


def safe_frame(frame):
    """A copy of a DataFrame whose strings (cells and column names) XML can hold."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object or str(frame[col].dtype) in ("string", "str"):
            frame[col] = frame[col].map(_clean)
    frame.columns = [_clean(c) for c in frame.columns]
    return frame


def text_cells(ws) -> int:
    """Type every string cell of an openpyxl worksheet as text (not formula, not error); returns
    how many were retyped. scores.xlsx holds data only, so no cell is meant to be a formula."""
    changed = 0
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type in ("f", "e") and isinstance(cell.value, str):
                cell.data_type = "s"
                changed += 1
    return changed
