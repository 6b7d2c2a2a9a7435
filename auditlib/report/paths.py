"""Where the report's pieces live and the fixed names of its outputs (no imports beyond config)."""

from __future__ import annotations

import re

from auditlib.config import PACKAGE_ROOT, REPO_ROOT
from auditlib.present import LANGUAGES

FORMATS = ("html", "pdf", "xlsx")
CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
NOTEBOOK = REPO_ROOT / "notebooks" / "audit_report.ipynb"
TEMPLATES = PACKAGE_ROOT / "templates"
TEMPLATE_DIR = TEMPLATES / "report"
RUN_INFO = "run-info.json"
REPORT_TEMPLATE_DIRS = ("report", "commentary")   # the templates under auditlib/templates a report uses
OUTPUT_FILES = {"ipynb": "report.ipynb", "html": "report.html", "pdf": "report.pdf", "xlsx": "scores.xlsx"}
# Cell tags: every code cell hides its input; cells that show nothing are removed whole.
REMOVE_INPUT_TAGS = frozenset({"remove_input", "hide-input"})
REMOVE_CELL_TAGS = frozenset({"remove_cell", "injected-parameters", "parameters"})
HANDLES_SHOWN = 10                        # handles in the report's table (all are in scores.xlsx)
# The kernel's own log (transport warnings, the interrupt at shutdown) is noise for the CLI user;
# a failing cell or a dead kernel is reported through the outcome, not this log.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]

__all__ = ["LANGUAGES", "FORMATS", "CLIENT_ID", "NOTEBOOK", "TEMPLATES", "TEMPLATE_DIR", "RUN_INFO",
           "REPORT_TEMPLATE_DIRS", "OUTPUT_FILES", "REMOVE_INPUT_TAGS", "REMOVE_CELL_TAGS", "HANDLES_SHOWN",
           "KERNEL_ARGUMENTS"]
