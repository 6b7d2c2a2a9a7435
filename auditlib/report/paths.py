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
# Languages apart: the default language's report keeps outputs/<client>/<engagement>/, another
# language's goes to outputs/<client>/<engagement>.<lang>/, so `run --lang nl` never replaces
# the English report (and a failed Dutch run is kept at <engagement>.nl.failed/).
DEFAULT_LANGUAGE = "en"


def report_dir_name(engagement: str, lang: str) -> str:
    """The report folder's name under outputs/<client>/ for one engagement in one language."""
    return engagement if lang == DEFAULT_LANGUAGE else f"{engagement}.{lang}"


def report_dir_language(name: str) -> tuple[str, str]:
    """(engagement, language) of a report folder's name: '2026.nl' -> ('2026', 'nl'), '2026' -> ('2026', 'en')."""
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and suffix in LANGUAGES and suffix != DEFAULT_LANGUAGE:
        return stem, suffix
    return name, DEFAULT_LANGUAGE


def language_suffix_problem(engagement: str) -> str | None:
    """An engagement name that ends like another language's folder ('2026.nl') would collide with it."""
    suffix = engagement.rpartition(".")[2].lower()
    if "." in engagement and suffix in LANGUAGES:
        return (f"refused engagement name {engagement!r}: it ends in '.{suffix}', the suffix of a report "
                f"language's folder (outputs/<client>/<engagement>.<lang>/)")
    return None

__all__ = [
    "CLIENT_ID",
    "DEFAULT_LANGUAGE",
    "FORMATS",
    "HANDLES_SHOWN",
    "KERNEL_ARGUMENTS",
    "LANGUAGES",
    "NOTEBOOK",
    "OUTPUT_FILES",
    "REMOVE_CELL_TAGS",
    "REMOVE_INPUT_TAGS",
    "REPORT_TEMPLATE_DIRS",
    "RUN_INFO",
    "TEMPLATES",
    "TEMPLATE_DIR",
    "language_suffix_problem",
    "report_dir_language",
    "report_dir_name",
]
