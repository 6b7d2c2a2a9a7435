"""The benchmark report of one engagement, in modules along its concerns.

    paths.py          where the notebook and templates live, output file names, cell tags
    parameters.py     ReportParameters, validate_parameters, split_groups (the notebook's first cell)
    fragments.py      Fragment and Chart (what the notebook displays), small text helpers
    view.py           ReportView: one AuditResult as escaped HTML fragments and charts
    view_sections.py  the view's later sections (labels, evolution, interpretation, notes, handles)
    finalise.py       check_html, export_html (nbconvert), export_pdf
    pdf.py            the PDF engines (a warm headless Chromium, WeasyPrint) and the warm browser's lifecycle
    manifest.py       input_hashes, sha256_file, the manifest
    run.py            run_engagement and RunOutcome: papermill, failed notebooks, the atomic swap

Every figure is formatted by auditlib.present. Importing this package is light (standard
library, config and present): the analysis, papermill, nbconvert and the PDF engines are imported
where they are used. `auditlib.report.NOTEBOOK` is read at run time, so a test may point it at
another notebook.
"""

from __future__ import annotations

from auditlib.present import fmt_number, fmt_value, words
from auditlib.report.finalise import check_html, export_html, export_pdf
from auditlib.report.fragments import Chart, Fragment
from auditlib.report.manifest import input_hashes, sha256_file
from auditlib.report.parameters import PARAMETERS, ReportParameters, split_groups, validate_parameters
from auditlib.report.paths import (CLIENT_ID, FORMATS, HANDLES_SHOWN, KERNEL_ARGUMENTS, LANGUAGES, NOTEBOOK,
                                   OUTPUT_FILES, REMOVE_CELL_TAGS, REMOVE_INPUT_TAGS, REPORT_TEMPLATE_DIRS,
                                   RUN_INFO, TEMPLATE_DIR, TEMPLATES)
from auditlib.report.run import RunOutcome, keep_failed_notebook, run_engagement, temp_paths
from auditlib.report.view import ReportView

__all__ = ["CLIENT_ID", "Chart", "FORMATS", "Fragment", "HANDLES_SHOWN", "KERNEL_ARGUMENTS", "LANGUAGES",
           "NOTEBOOK", "OUTPUT_FILES", "PARAMETERS", "REMOVE_CELL_TAGS", "REMOVE_INPUT_TAGS",
           "REPORT_TEMPLATE_DIRS", "RUN_INFO", "ReportParameters", "ReportView", "RunOutcome", "TEMPLATES",
           "TEMPLATE_DIR", "check_html", "export_html", "export_pdf", "fmt_number", "fmt_value", "input_hashes",
           "keep_failed_notebook", "run_engagement", "sha256_file", "split_groups", "temp_paths",
           "validate_parameters", "words"]
