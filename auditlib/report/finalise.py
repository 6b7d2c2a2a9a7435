"""The report's pages: the executed notebook as one safe, self-contained HTML page, and its PDF.

The PDF is printed from the very HTML the client gets, by the engine chosen in auditlib/report/pdf.py
(a warm headless Chromium, or WeasyPrint where no Chromium is installed).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from auditlib.errors import AuditError
from auditlib.present import words
from auditlib.report.paths import REMOVE_CELL_TAGS, REMOVE_INPUT_TAGS, TEMPLATE_DIR, TEMPLATES
from auditlib.templating import keep_compiled

_FORBIDDEN_TAGS = frozenset({"script", "iframe", "frame", "object", "embed", "link", "base", "applet", "form",
                             "svg", "math", "audio", "video", "source", "track"})
_URL_ATTRS = frozenset({"src", "href", "srcset", "data", "action", "formaction", "poster", "background",
                        "xlink:href", "cite", "longdesc", "ping"})
_CSS_URL = re.compile(r"url\(\s*['\"]?(?!data:)|@import|expression\(", re.I)


def check_html(html: str) -> list[str]:
    """Problems that make a report unfit to send: scripts, event handlers, external resources.

    The page is parsed (not searched as text), so an escaped '<script>' in a cluster's name is
    text and passes, while any real script tag, on* attribute, or URL that is not a data: URI
    or an in-page '#anchor' is a problem. The exporter refuses a report with any problem.
    """
    from html.parser import HTMLParser

    problems: list[str] = []

    class Checker(HTMLParser):
        in_style = False

        def handle_starttag(self, tag, attrs):
            if tag in _FORBIDDEN_TAGS or (tag == "meta" and any(k == "http-equiv" for k, _ in attrs)):
                problems.append(f"<{tag}> element")
            self.in_style = tag == "style"
            for key, value in attrs:
                value = (value or "").strip()
                if key.startswith("on"):
                    problems.append(f"event handler attribute {key!r} on <{tag}>")
                elif key in _URL_ATTRS and value and not value.startswith(("data:", "#")):
                    problems.append(f"external resource {value[:60]!r} in <{tag} {key}>")
                elif key == "style" and _CSS_URL.search(value):
                    problems.append(f"external resource in the style of <{tag}>")

        def handle_startendtag(self, tag, attrs):
            self.handle_starttag(tag, attrs)
            self.in_style = False

        def handle_endtag(self, tag):
            self.in_style = False

        def handle_data(self, data):
            if self.in_style and _CSS_URL.search(data):
                problems.append("external resource in a stylesheet (url() or @import)")

    checker = Checker(convert_charrefs=True)
    checker.feed(html)
    checker.close()
    return problems


def _report_exporter_class() -> type:
    """nbconvert's HTMLExporter without its BeautifulSoup pass over the finished page.

    That pass (nbconvert 7) parses and re-serialises the whole page to add a placeholder alt text
    to images without one and tabindex to notebook cell wrappers; a report has neither (its
    charts carry their alt text, tests/test_report.py checks it; code cells are removed), and the
    pass cost ~0.15 s CPU per report, plus ~0.3 s of CSS-selector compilation in a cold run.
    The rest is HTMLExporter.from_notebook_node as it is: the same filters, the template's output.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


@lru_cache(maxsize=1)
def _html_exporter():
    """One configured exporter per process: building it (templates, preprocessors) is the slow part."""
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    config.TagRemovePreprocessor.remove_input_tags = set(REMOVE_INPUT_TAGS)
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove_output"}
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    # The notebook validated once, after all preprocessors, not after each of the 13 (each a
    # whole-notebook schema check: ~0.05 s CPU per report); an invalid notebook still fails.
    config.HTMLExporter.optimistic_validation = True
    exporter = _report_exporter_class()(config=config, template_name="report",
                            extra_template_basedirs=[str(TEMPLATES)])
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    keep_compiled(exporter.environment, "page")
    return exporter


def export_html(nb, *, lang: str, title: str, client: str | None = None) -> str:
    """The executed notebook as one self-contained HTML page (code hidden by cell tags).

    `client` (default: the title after "<report title>: ") is written into the pages' footer as a
    literal CSS string (pdf.css_string), the same for every PDF engine."""
    from auditlib.report.pdf import css_string

    exporter = _html_exporter()
    css = (TEMPLATE_DIR / "report.css").read_text(encoding="utf-8")
    texts = words(lang)
    if client is None:
        client = title.removeprefix(f"{texts['report_title']}: ")
    css = css.replace("PAGE_WORD", texts["page"]).replace("CLIENT_FOOTER", css_string(client))
    resources = {"audit": {"lang": lang, "title": title, "css": css}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    problems = check_html(body)
    if problems:
        raise AuditError("the HTML report is not self-contained and safe: " + "; ".join(problems[:5]))
    return body


def export_pdf(html: str, out: Path, base_dir: Path, *, engine: str | None = "auto",
               chromium: str | Path | None = None) -> str:
    """Render the report's HTML to PDF with the chosen engine (auditlib/report/pdf.py); returns its name."""
    from auditlib.report import pdf

    return pdf.export_pdf(html, out, base_dir, engine=engine, chromium=chromium)
