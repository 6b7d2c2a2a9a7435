"""Interpretation: commentary in English and Dutch, the auditor's notes, improvement handles.

CONTRACT (implemented by the interpretation work; the report, meeting and export rely on it):

    interpret(result: AuditResult, lang: str = "en") -> Interpretation
    Interpretation.sections      list[Section]  (overall first, then one per dimension)
    Section.anchor               "overall" | "dimension:<id>" | "indicator:<id>"
    Section.title                str, in the language
    Section.statements           list[Statement]  (generated text and auditor's notes)
    Statement.text / .source     str / "generated" | "auditor"
    Interpretation.handles       pandas DataFrame, one row per improvement handle, priority order
    Interpretation.silver_areas  list[str] the top three handles' indicator ids
    Interpretation.to_markdown() str  the whole interpretation as Markdown (text escaped)
"""
