"""Display objects of the report notebook and the small text helpers the view shares."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from auditlib.report.paths import TEMPLATE_DIR

_log = logging.getLogger(__name__)


class Fragment:
    """An HTML fragment for display(): HTML in the report, plain text for nbval and consoles."""

    def __init__(self, html: str, text: str = ""):
        self.html, self.text = str(html), text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text or "<report fragment>"


class Chart:
    """A rendered chart for display(): an SVG (byte-stable, vector in print) with its alt text."""

    def __init__(self, svg: str, alt: str):
        self.svg, self.alt = svg, alt

    def _repr_svg_(self):
        return self.svg, {"alt": self.alt}

    def __repr__(self) -> str:
        return f"<chart: {self.alt}>"


@lru_cache(maxsize=1)
def _fragments():
    import jinja2

    from auditlib.templating import keep_compiled

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False)
    return keep_compiled(env, "fragments").get_template("fragments.html.j2").module


def _country_name(code: str, lang: str) -> str:
    try:
        import pycountry

        country = pycountry.countries.get(alpha_2=code)
        if country is None:
            return code
        name = country.name
        if lang != "en":
            import gettext

            name = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang],
                                       fallback=True).gettext(name)
        return f"{name} ({code})"
    except Exception:  # an unknown or odd code is shown as given
        _log.debug("_country_name: exception ignored", exc_info=True)
        return code


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]

def _interpret(result, lang: str):
    """The interpretation, or None while auditlib.interpret is not there yet (a clear fallback)."""
    try:
        from auditlib.interpret import interpret
    except ImportError:
        return None
    try:
        return interpret(result, lang)
    except NotImplementedError:
        return None


def _drop_title(markdown: str) -> str:
    """Drop a leading top-level '# title' line: the report's own section heading replaces it."""
    lines = markdown.lstrip("\n").splitlines()
    if lines and re.match(r"^#\s", lines[0]):
        lines = lines[1:]
    return "\n".join(lines).strip() + "\n"


def _demote_headings(markdown: str) -> str:
    """Put the interpretation's headings below the report's section heading (# -> ###)."""
    out, fenced = [], False
    top = min((len(m.group(1)) for m in re.finditer(r"^(#{1,6})\s", markdown, re.M)), default=3)
    shift = max(0, 3 - top)
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and shift and re.match(r"^#{1,6}\s", line):
            line = "#" * shift + line
        out.append(line)
    return "\n".join(out)


