"""Text is text in the workbooks we write: no client string becomes a formula or breaks the file.

Why: a writer left to guess turns client text into something else: openpyxl made any string
starting with "=" a formula (a client named `=HYPERLINK("http://x.example","click")` became a live
link in scores.xlsx) and "#N/A" an error cell; XlsxWriter by default makes "=..." a formula,
"http://..." a link and, if asked, "12" a number. scores.xlsx is written by XlsxWriter with all
three conversions off (auditlib.export.XLSX_OPTIONS), so every string is a text cell. XML cannot
hold control characters: openpyxl refused them with an IllegalCharacterError that named no field,
XlsxWriter would write them as _x001B_, which Excel shows as the invisible character itself.
`clean_text` shows them as a visible escape (\\x1b, \\ud83c) instead.
"""

from __future__ import annotations

import re

# What an XML 1.0 document cannot contain (tab, newline and carriage return are fine).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str) -> str:
    """`value` with every character XML cannot hold shown as a visible escape (\\x1b, \\ud83c)."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                            else f"\\u{ord(m.group()):04x}", value)
