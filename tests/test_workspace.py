"""The auditor's workspace: languages apart, `auditlib open` works on a copy, notebooks find the
outputs from wherever they are opened."""

from __future__ import annotations

import json

import pytest
from conftest import DATA

from auditlib.config import Settings
from auditlib.report.paths import (
    language_suffix_problem,
    report_dir_language,
    report_dir_name,
)

CLIENT = "es-huerta-food"


# --- languages apart ----------------------------------------------------------------------------

def test_report_folder_names_keep_the_languages_apart():
    assert report_dir_name("2026", "en") == "2026"               # English paths stay as they were
    assert report_dir_name("2026", "nl") == "2026.nl"
    assert report_dir_language("2026.nl") == ("2026", "nl")
    assert report_dir_language("2026") == ("2026", "en")
    assert report_dir_language("v1.2") == ("v1.2", "en")          # a dot alone is not a language
    assert language_suffix_problem("2026.nl") and language_suffix_problem("audit.EN")
    assert language_suffix_problem("2026") is None and language_suffix_problem("v1.2") is None


@pytest.mark.slow
def test_english_and_dutch_reports_do_not_overwrite_each_other_and_changed_only_respects_the_language(tmp_path):
    from auditlib.batch import last_good_report, unchanged_report
    from auditlib.errors import ParameterError
    from auditlib.report import run_engagement

    settings = Settings.from_env()
    out = tmp_path / "outputs"
    en = run_engagement(CLIENT, settings=settings, lang="en", formats=["html"], outputs_dir=out)
    nl = run_engagement(CLIENT, settings=settings, lang="nl", formats=["html"], outputs_dir=out)
    assert en.status == nl.status == "ok", (en.error, nl.error)
    assert en.out_dir == out / CLIENT / "2026" and nl.out_dir == out / CLIENT / "2026.nl"
    assert '<html lang="en">' in (en.out_dir / "report.html").read_text(encoding="utf-8")   # still English
    assert '<html lang="nl">' in (nl.out_dir / "report.html").read_text(encoding="utf-8")
    manifest = json.loads((nl.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["engagement"], manifest["lang"], manifest["folder"]) == ("2026", "nl", "2026.nl")
    assert nl.engagement == "2026"

    # --changed-only: each language finds its own report, never the other one
    client_dir = DATA / "clients" / CLIENT
    assert unchanged_report(client_dir, settings, out, lang="nl", formats=["html"]) == nl.out_dir
    assert unchanged_report(client_dir, settings, out, lang="en", formats=["html"]) == en.out_dir
    assert last_good_report(out, CLIENT, "nl") == nl.out_dir and last_good_report(out, CLIENT, "en") == en.out_dir
    import shutil

    shutil.rmtree(nl.out_dir)       # no Dutch report: the English one must not count as the Dutch one
    assert unchanged_report(client_dir, settings, out, lang="nl", formats=["html"]) is None

    # an engagement named like another language's folder is refused before any kernel starts
    with pytest.raises(ParameterError, match="suffix of a report language"):
        run_engagement(CLIENT, settings=settings, lang="en", engagement="2026.nl", formats=["html"],
                       outputs_dir=out)
