"""Client-facing text: no internal ids, no '1 years', Dutch with its diacritics and without English.

The reports are built in-process (the same ReportView calls as notebooks/audit_report.ipynb,
without papermill), for every example client in English and Dutch. The auditor's own notes are
left out of the language checks: they are the auditor's words, in whatever language they wrote.
"""

from __future__ import annotations

import html as _html
import re
from functools import cache

import pytest
import yaml
from auditlib.testing import DATA

from auditlib.config import PACKAGE_ROOT

CLIENTS = sorted(p.name for p in (DATA / "clients").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))

# Dutch words that need their diacritics (written without them they read as a typo).
DIACRITICS = {
    "enquete": "enquête", "vervolgenquete": "vervolgenquête", "tevredenheidsenquete": "tevredenheidsenquête",
    "financiele": "financiële", "geinformeerd": "geïnformeerd", "ideeen": "ideeën", "creeren": "creëren",
    "coordinatie": "coördinatie", "coordineren": "coördineren", "efficient": "efficiënt",
    "reele": "reële", "geinteresseerd": "geïnteresseerd", "beinvloeden": "beïnvloeden",
    "categorieen": "categorieën", "industriele": "industriële", "potentiele": "potentiële",
}
# Phrases where "een" must be "één" (the number, not the article).
ONE = ("minstens een dienst", "een per rij", "minstens een jaar", "als er een wegvalt", "in een document")
# English words that must not appear in a Dutch report (checked as whole words).
# (Dutch shares "is", "of", "met", "band", "criteria", "label", "score": those are not in the list.)
ENGLISH = ("the", "and", "are", "not", "yet", "percentile", "quartile", "median", "strength", "strengths",
           "weakness", "criterion", "threshold", "handle", "handles", "improvement", "peer", "peers", "ready",
           "group", "groups", "years", "year", "bronze", "silver", "gold", "none", "answered", "members",
           "services", "same", "field", "country", "against", "point", "work", "level", "below", "above",
           "with", "from", "share", "total")
# Old Dutch wording the issue asked to replace; it must not come back.
OLD_DUTCH = ("zelfde veld", "zelfde land", "gelezen tegen", "het mediaan", "is een sterkte", "typen van 9",
             "typen van 12", "dit dient criterium", "hoger midden", "lager midden",
             "Vergelijking tussen vergelijkingsgroepen", "gereed: 4 van de 4")


def _has(phrase: str, text: str) -> bool:
    """The phrase as words ('zelfde veld' is not found in 'hetzelfde veld')."""
    return re.search(r"(?<![A-Za-zÀ-ÿ])" + re.escape(phrase) + r"(?![A-Za-zÀ-ÿ])", text) is not None


def _strip(html: str) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL | re.IGNORECASE)
    text = re.sub(r"<svg\b.*?</svg>", " ", text, flags=re.DOTALL | re.IGNORECASE)   # charts: checked by their words
    text = _html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\S+\.(yaml|csv|xlsx|ipynb)\b", " ", text)       # file names (provenance) are not words


@cache
def report_text(client: str, lang: str) -> str:
    """Every section the report notebook displays, as text (the auditor's notes left out)."""
    from auditlib.report import ReportView, validate_parameters

    view = ReportView(validate_parameters({"client_id": client, "lang": lang}))
    parts = [view.cover(), view.summary(), view.profile(), view.heading("dimensions"),
             view.intro("dimensions_intro"), view.dimension_table(), view.heading("positions"),
             view.positions_intro()]
    for d in view.catalogue.dimensions:
        parts += [view.dimension_heading(d.id), view.positions_table(d.id)]
    parts += [view.peer_comparison(), view.label_summary(), view.label_criteria()]
    if view.result.evolution is not None:
        parts += [view.evolution_heading(), view.evolution_table()]
    parts += [view.handles(), view.appendix(), view.peer_groups(), view.provenance()]
    for optional in ("journey", "silver_form"):          # sections that not every version has
        if hasattr(view, optional):
            parts.append(getattr(view, optional)())
    text = "\n".join(_strip(p.html) for p in parts if p is not None and hasattr(p, "html"))
    generated = [st.text for s in view.interpretation.sections for st in s.statements if st.source == "generated"]
    return text + "\n" + "\n".join(generated)


def _criterion_ids(catalogue) -> set[str]:
    ids = {"silver_areas", "silver_second_benchmark", "silver_progress", "gold_total_score"}
    labels = catalogue.labels
    for part in ("bronze", "gold"):
        for group in vars(getattr(labels, part)).values():
            if isinstance(group, list):
                ids |= {c.id for c in group if hasattr(c, "id")}
    return ids


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("client", CLIENTS)
def test_no_criterion_id_and_no_plural_after_one_in_a_report(client, lang, catalogue):
    text = report_text(client, lang)
    ids = _criterion_ids(catalogue)
    assert "q12" in ids and "gold_min_fte" in ids            # the check knows the ids it looks for
    found = sorted({w for w in re.findall(r"\b[a-z][a-z0-9_]+\b", text) if w in ids})
    assert not found, f"criterion ids in the {lang} report of {client}: {found}"
    assert not re.search(r"\bcriterion [a-z]+_|\bcriterium [a-z]+_|\bcriteri(on|um) q\d", text)
    plural_units = {i.unit[lang] for i in catalogue.indicators if i.unit_one and i.unit_one[lang] != i.unit[lang]}
    assert "years" in plural_units or lang == "nl"
    bad = [m.group(0) for m in re.finditer(r"(?<![\d.,])1 ([a-z]+)", text) if m.group(1) in plural_units]
    assert not bad, f"'1' with a plural unit in the {lang} report of {client}: {bad}"
    assert not re.search(r"(?<![\d.,])1 (years|jaren)\b", text)


@pytest.mark.parametrize("client", CLIENTS)
def test_the_dutch_report_has_its_diacritics_and_no_english(client):
    text = report_text(client, "nl")
    words = re.findall(r"[A-Za-zÀ-ÿ]+", text)
    lower = {w.lower() for w in words}
    missing = sorted(w for w in lower if w in DIACRITICS)
    assert not missing, f"Dutch words without their diacritics: {missing}"
    english = sorted({w for w in words if w.lower() in ENGLISH})
    assert not english, f"English words in the Dutch report of {client}: {english}"
    old = [p for p in OLD_DUTCH if _has(p, text)]
    assert not old, f"old Dutch wording in the report of {client}: {old}"
    assert not any(p in text for p in ONE)


def _dutch_strings() -> dict[str, str]:
    """Every Dutch string shipped: words.yaml, the catalogue, the commentary templates, the meeting,
    the Excel template and the portfolio (source -> text)."""
    out: dict[str, str] = {}

    def walk(node, where: str):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "nl":
                    out[f"{where}.nl"] = yaml.safe_dump(v, allow_unicode=True)
                else:
                    walk(v, f"{where}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")

    for path in [PACKAGE_ROOT / "templates" / "report" / "words.yaml", *sorted((DATA / "catalogue").glob("*.yaml"))]:
        walk(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    for path in sorted((PACKAGE_ROOT / "templates" / "commentary" / "nl").glob("*.j2")):
        out[path.name] = path.read_text(encoding="utf-8")
    from auditlib.meeting.texts import TEXTS
    from auditlib.portfolio import WORDS
    from auditlib.template import _WORDS

    out["meeting/texts.py"] = repr(TEXTS["nl"])
    out["portfolio.py"] = repr(WORDS["nl"])
    out["template.py"] = repr(_WORDS["nl"])
    return out


def test_no_shipped_dutch_string_lacks_its_diacritics():
    strings = _dutch_strings()
    assert len(strings) > 50 and any("words.yaml" in k for k in strings)
    problems = []
    for where, text in strings.items():
        for word in re.findall(r"[A-Za-zÀ-ÿ]+", text):
            if word.lower() in DIACRITICS:
                problems.append(f"{where}: {word} (write {DIACRITICS[word.lower()]})")
        problems += [f"{where}: '{p}' (één)" for p in ONE if p in text]
        problems += [f"{where}: '{p}'" for p in OLD_DUTCH if _has(p, text)]
    assert not problems, "\n".join(problems)


def test_the_check_itself_finds_what_it_looks_for():
    """The word lists catch the mistakes they are for (a check that cannot fail tests nothing)."""
    sample = "Meet het effect met een vervolgenquete; de financiele steun, minstens een dienst. The median is."
    words = re.findall(r"[A-Za-zÀ-ÿ]+", sample)
    assert {w.lower() for w in words} & set(DIACRITICS) == {"vervolgenquete", "financiele"}
    assert [p for p in ONE if p in sample] == ["minstens een dienst"]
    assert {w for w in words if w.lower() in ENGLISH} == {"The", "median"}
    assert _strip('<p>a &amp; b</p><svg><text>x</text></svg>').split() == ["a", "&", "b"]
    assert _has("zelfde veld", "vergeleken met zelfde veld: ICT") and not _has("zelfde veld", "in hetzelfde veld")
