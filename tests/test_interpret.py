"""Interpretation: context rules, both languages, escaping, consistency, the CLI."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import jinja2
import pandas as pd
import pytest
import yaml

from auditlib.audit import analyse
from auditlib.consistency import check_consistency
from auditlib.intake import ClientFolder
from auditlib.interpret import (commentary_env, fmt_number, interpret, load_rules, phrases,
                                template_names)
from auditlib.notes import AuditorNotes

from auditlib.testing import DATA, make_db, make_profile, make_reference_frame

LANGS = ("en", "nl")
CLIENTS = sorted(p for p in (DATA / "clients").iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) \
    if (DATA / "clients").is_dir() else []
# Words the benchmark's philosophy keeps out of generated text (position, not a ranking or verdict).
FORBIDDEN = {"en": r"\b(rank\w*|best|worst|fail\w*|loser\w*|winner\w*)\b",
             "nl": r"\b(rang\w*|beste|slechtste|gezakt|zakt|verliez\w*|winnaar\w*)\b"}


def run(catalogue, db, *, groups=None, notes=None, **answers):
    return analyse(make_profile(catalogue, **answers), catalogue=catalogue, benchmark=db, groups=groups,
                   notes=notes)


def kinds(interp, anchor=None) -> list[str]:
    return [st.kind for s in interp.sections if anchor in (None, s.anchor) for st in s.statements]


def statements(interp, kind):
    return [st for st in interp.statements() if st.kind == kind]


# --- context rules: each firing and not firing ------------------------------------------------

def test_young_organisation_reads_budget_team_members_against_age_band(catalogue, synthetic_db):
    # food, not ict: the young ict clusters differ from the young ones by fewer than the floor,
    # so the disclosure rules would refuse the age band next to the field group
    young = interpret(run(catalogue, synthetic_db, field="food", founding_year=2023, total_budget=80,
                          management_fte=1.0))
    assert "context_young" in kinds(young, "overall")
    extra = statements(young, "context_young_indicator")
    assert {st.anchor for st in extra} == {"indicator:total_budget", "indicator:management_fte",
                                          "indicator:committed_members"}
    budget = next(st for st in extra if st.anchor == "indicator:total_budget")
    assert {p["group"] for p in budget.facts["positions"]} == {"age_band", "field"}
    assert "smaller budget and team" in budget.text
    assert "organisations of the same age band: young (0-4 years)" in budget.text
    # it sits in the dimension section of its indicator
    assert budget in young.section("dimension:financing").statements
    older = interpret(run(catalogue, synthetic_db, founding_year=2010, total_budget=80))
    assert "context_young" not in kinds(older) and "context_young_indicator" not in kinds(older)


def test_young_rule_threshold_is_data(catalogue, synthetic_db, monkeypatch):
    rules = load_rules(catalogue)
    young = rules.rules.young_organisation.model_copy(update={"age_bands": [], "max_age": 20})
    patched = rules.model_copy(update={"rules": rules.rules.model_copy(update={"young_organisation": young})})
    monkeypatch.setattr("auditlib.interpret.load_rules", lambda cat: patched)
    assert "context_young" in kinds(interpret(run(catalogue, synthetic_db, founding_year=2010)))


def test_small_country_fallback_names_the_broader_group(catalogue, synthetic_db):
    small = run(catalogue, synthetic_db, country="NO")         # ~2% of 300: below the floor of 10
    assert small.group("country").fallback_from == ("country",)
    for lang, words in (("en", "too few organisations from NO"), ("nl", "te weinig organisaties uit NO")):
        st = statements(interpret(small, lang), "context_fallback")
        assert len(st) == 1 and words in st[0].text
        assert st[0].facts["groups"] == [{"group": "country", "n": small.group("country").n,
                                          "name": small.group("country").name(lang)}]
        assert f"(n = {fmt_number(small.group('country').n, lang)})" in st[0].text
    home = interpret(run(catalogue, synthetic_db, country="DE"))
    assert "context_fallback" not in kinds(home)


def _frame_with_sme_shares(reference_frame, maritime_shift: float) -> pd.DataFrame:
    frame = reference_frame.copy()
    base = (pd.Series(range(len(frame)), index=frame.index) % 50 + 25).astype(float)
    frame["sme_share"] = base.where(frame["field"] != "maritime", (base + maritime_shift).clip(0, 100))
    return frame


def test_field_norms_fire_when_field_median_differs(catalogue, reference_frame):
    differ = make_db(_frame_with_sme_shares(reference_frame, 40.0))
    result = run(catalogue, differ, field="maritime", sme_share=80)
    st = statements(interpret(result, "nl"), "context_field_norms")
    assert len(st) == 1 and st[0].anchor == "indicator:sme_share"
    assert "veeleisender" in st[0].text
    medians = {m["group"]: m["median"] for m in st[0].facts["medians"]}
    assert medians["field"] - medians["all"] > load_rules(catalogue).rules.field_norms.min_difference["sme_share"]
    same = make_db(_frame_with_sme_shares(reference_frame, 0.0))
    assert "context_field_norms" not in kinds(interpret(run(catalogue, same, field="maritime", sme_share=80)))


def _extreme(catalogue, dimension: str, good: bool) -> dict:
    out = {}
    for ind in catalogue.in_dimension(dimension):
        if ind.scored:
            high = ind.max if ind.kind != "count" else min(ind.max, 5000)
            out[ind.id] = (high if good else ind.min) if ind.direction == "higher" else (ind.min if good else high)
    return out


def test_service_gap_fires_for_strong_structure_and_weak_services(catalogue, synthetic_db):
    gap = run(catalogue, synthetic_db, **{**_extreme(catalogue, "structure", True),
                                          **_extreme(catalogue, "services", False)})
    interp = interpret(gap)
    st = statements(interp, "context_service_gap")
    assert len(st) == 1 and "service gap" in st[0].text
    assert [d["dimension"] for d in st[0].facts["dimensions"]] == ["structure", "services"]
    both = run(catalogue, synthetic_db, **{**_extreme(catalogue, "structure", True),
                                           **_extreme(catalogue, "services", True)})
    assert "context_service_gap" not in kinds(interpret(both))


def test_public_dependence_fires_for_high_public_share_and_few_sources(catalogue, synthetic_db):
    st = statements(interpret(run(catalogue, synthetic_db, public_funding_share=85, funding_sources=1)),
                    "context_public_dependence")
    assert len(st) == 1 and "85%" in st[0].text
    for answers in (dict(public_funding_share=85, funding_sources=5), dict(public_funding_share=40, funding_sources=1),
                    dict(public_funding_share=85)):
        assert "context_public_dependence" not in kinds(interpret(run(catalogue, synthetic_db, **answers)))


def test_passive_membership_fires_for_many_members_few_active(catalogue, synthetic_db):
    st = statements(interpret(run(catalogue, synthetic_db, committed_members=3000, active_member_share=1)),
                    "context_passive_membership")
    assert len(st) == 1
    assert [p["indicator"] for p in st[0].facts["positions"]] == ["committed_members", "active_member_share"]
    assert "context_passive_membership" not in kinds(
        interpret(run(catalogue, synthetic_db, committed_members=3000, active_member_share=99)))
    assert "context_passive_membership" not in kinds(
        interpret(run(catalogue, synthetic_db, committed_members=16, active_member_share=1)))


def test_strengths_weaknesses_and_near_threshold(catalogue, synthetic_db):
    interp = interpret(run(catalogue, synthetic_db, service_usage=99, events_per_year=0, committed_members=31))
    ind = {st.anchor: st for st in statements(interp, "indicator")}
    assert "is a strength" in ind["indicator:service_usage"].text
    assert "is a point to work on" in ind["indicator:events_per_year"].text
    near = [st for st in statements(interp, "criterion_near") if st.anchor == "indicator:committed_members"]
    assert near and {c["criterion"] for c in near[0].facts["criteria"]} == {"gold_min_members", "q01"}
    assert near[0].text.count("the Gold criterion is met at 30 participants") == 1   # two criteria, one phrase
    assert "q01" not in near[0].text and "gold_min_members" not in near[0].text


def test_sections_order_and_evolution_section(catalogue, synthetic_db):
    now = make_profile(catalogue, benchmark_year=2026, service_usage=90)
    then = make_profile(catalogue, benchmark_year=2024, service_usage=5)
    result = analyse(ClientFolder("c", Path("."), now, (then,), None), catalogue=catalogue, benchmark=synthetic_db)
    interp = interpret(result)
    assert [s.anchor for s in interp.sections] == (
        ["overall"] + [f"dimension:{d.id}" for d in catalogue.dimensions] + ["evolution"])
    change = [st for st in statements(interp, "evolution_change") if st.anchor == "indicator:service_usage"]
    assert change and change[0].facts["evolution"][0]["trend"] == "improved"
    assert "Evolution since 2024" == interp.section("evolution").title
    no_evo = interpret(run(catalogue, synthetic_db))
    assert "evolution" not in [s.anchor for s in no_evo.sections]


# --- notes beside the generated text ------------------------------------------------------------

def test_auditor_notes_in_their_sections_marked(catalogue, synthetic_db):
    from auditlib.notes import Note

    notes = AuditorNotes((Note("overall", "Good meeting."), Note("dimension:services", "Services are new."),
                          Note("indicator:sme_share", "Many SMEs left in 2025.")), ())
    result = run(catalogue, synthetic_db, notes=notes, sme_share=20)
    for lang, marker in (("en", "Auditor's note:"), ("nl", "Notitie van de auditor:")):
        interp = interpret(result, lang)
        auditor = {st.anchor: st for st in interp.statements("auditor")}
        assert set(auditor) == {"overall", "dimension:services", "indicator:sme_share"}
        assert auditor["overall"] in interp.section("overall").statements
        assert auditor["dimension:services"] in interp.section("dimension:services").statements
        structure = interp.section("dimension:structure").statements
        assert auditor["indicator:sme_share"] in structure
        # right after the generated statements on the same indicator
        k = structure.index(auditor["indicator:sme_share"])
        assert structure[k - 1].anchor == "indicator:sme_share" and structure[k - 1].source == "generated"
        assert all(st.marker == marker and st.source == "auditor" for st in auditor.values())
        assert f"- **{marker}** Many SMEs left in 2025." in interp.to_markdown()


def test_client_text_is_escaped_for_html(catalogue, synthetic_db):
    from auditlib.notes import Note

    notes = AuditorNotes((Note("overall", "<script>alert('x')</script> & more"),), ())
    profile = dataclasses.replace(make_profile(catalogue), name="<b>Evil</b> & Co")
    result = analyse(profile, catalogue=catalogue, benchmark=synthetic_db, notes=notes)
    md = interpret(result).to_markdown()
    assert "<script>" not in md and "<b>" not in md
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; more" in md
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in md
    assert "<script>" in interpret(result).to_text()      # the terminal shows the characters


# --- consistency ---------------------------------------------------------------------------------

def synthetic_results(catalogue, db, n=40, seed=11):
    """Results for profiles built from rows of another synthetic frame; every 4th with an earlier audit."""
    frame = make_reference_frame(catalogue, n=n + 1, seed=seed)
    rows = list(frame.iterrows())

    def profile(k, row, year=None):
        answers = {i: None if pd.isna(row[i]) else float(row[i]) for i in catalogue.ids if i != "org_age"}
        return make_profile(catalogue, client_id=f"syn-{k}", country=row["country"], field=row["field"],
                            founding_year=int(row["founding_year"]),
                            benchmark_year=year or int(row["benchmark_year"]), **answers)

    for k, (_, row) in enumerate(rows[:n]):
        now = profile(k, row)
        if k % 4 == 0 and now.benchmark_year - 2 > now.founding_year:
            then = profile(k, rows[k + 1][1], year=now.benchmark_year - 2)
            then = dataclasses.replace(then, founding_year=now.founding_year,
                                       answers={**then.answers,
                                                "org_age": float(then.benchmark_year - now.founding_year)})
            yield analyse(ClientFolder(now.client_id, Path("."), now, (then,), None), catalogue=catalogue, benchmark=db)
        else:
            yield analyse(now, catalogue=catalogue, benchmark=db)


def test_consistency_on_generated_clients_both_languages(catalogue, synthetic_db):
    seen = set()
    for result in synthetic_results(catalogue, synthetic_db):
        for lang in LANGS:
            interp = interpret(result, lang)
            assert check_consistency(interp, result) == [], result.client.client_id
            seen |= set(interp.templates_used)
            generated = " ".join(st.text for st in interp.statements("generated")).lower()
            assert not re.search(FORBIDDEN[lang], generated), re.search(FORBIDDEN[lang], generated)
    assert "evolution_change.j2" in seen and "context_fallback.j2" in seen


@pytest.mark.parametrize("client", CLIENTS, ids=[c.name for c in CLIENTS])
def test_consistency_on_example_clients(catalogue, client):
    result = analyse(client, catalogue=catalogue)
    for lang in LANGS:
        interp = interpret(result, lang)
        assert check_consistency(interp, result) == []
        text = interp.to_markdown()
        assert not re.search(FORBIDDEN[lang], " ".join(st.text for st in interp.statements("generated")).lower())
        assert text == interpret(result, lang).to_markdown()      # deterministic


def _first_with_band(interp, band_words):
    for s in interp.sections:
        for st in s.statements:
            if st.source == "generated" and st.facts.get("positions") and band_words in st.text:
                return st
    raise AssertionError("no statement to mutate")


def test_consistency_catches_a_wrong_sentence(catalogue, synthetic_db):
    result = run(catalogue, synthetic_db, service_usage=99, events_per_year=0)
    interp = interpret(result)
    assert check_consistency(interp, result) == []
    st = _first_with_band(interp, "(top quartile)") if "(top quartile)" in interp.to_markdown() \
        else _first_with_band(interp, "(top 10%)")
    original = st.text
    st.text = original.replace("(top quartile)", "(bottom quartile)").replace("(top 10%)", "(bottom quartile)")
    problems = check_consistency(interp, result)
    assert problems and any("bottom quartile" in p for p in problems)
    # a changed percentile number
    st.text = re.sub(r"percentile (\d+)", lambda m: f"percentile {(int(m.group(1)) + 37) % 100}", original, count=1)
    assert check_consistency(interp, result)
    # facts that disagree with the result, with a text that follows them
    st.text = original
    fact = st.facts["positions"][0]
    fact["percentile"] = (fact["percentile"] + 30) % 100
    assert any("percentile" in p for p in check_consistency(interp, result))


def test_consistency_catches_a_wrong_criterion_and_label(catalogue, synthetic_db):
    result = run(catalogue, synthetic_db, committed_members=31)
    interp = interpret(result, "nl")
    near = next(st for st in statements(interp, "criterion_near") if st.anchor == "indicator:committed_members")
    assert "het criterium voor Goud is gehaald" in near.text and "q01" not in near.text   # no criterion id
    near.text = near.text.replace("het criterium voor Goud is gehaald", "het criterium voor Goud is nog niet gehaald")
    assert any("does not say 'het criterium voor Goud is gehaald'" in p for p in check_consistency(interp, result))
    # an open criterion is named in words; a name that is not the criterion's is caught
    interp = interpret(result, "nl")
    with_open = next(st for st in statements(interp, "label") if st.facts["criteria"])
    fact = with_open.facts["criteria"][0]
    assert fact["name"] and f"‘{fact['name']}’" in with_open.text and fact["criterion"] not in with_open.text
    fact["name"] = "iets anders"
    assert any("which is not its name" in p for p in check_consistency(interp, result))
    interp = interpret(result, "nl")
    label = statements(interp, "label")[0]
    label.facts["labels"][0]["ready"] = not label.facts["labels"][0]["ready"]
    assert any("label bronze" in p for p in check_consistency(interp, result))


def test_consistency_catches_a_wrong_handle(catalogue, synthetic_db):
    result = run(catalogue, synthetic_db, service_usage=3)
    interp = interpret(result)
    interp.handles.loc[0, "target"] = interp.handles.loc[0, "target"] + 7
    assert any(p.startswith("handle 1") for p in check_consistency(interp, result))


# --- both languages complete ----------------------------------------------------------------------

def test_every_template_exists_in_both_languages():
    names = {lang: template_names(lang) for lang in LANGS}
    assert names["en"] == names["nl"] and len(names["en"]) >= 15
    macros = {lang: sorted(n for n in dir(phrases(lang)) if not n.startswith("_")) for lang in LANGS}
    assert macros["en"] == macros["nl"]


def _texts(node, path=""):
    """Every {en, nl} text in a YAML tree, with its path."""
    if isinstance(node, dict):
        if set(node) & {"en", "nl"}:
            yield path, node
        else:
            for k, v in node.items():
                yield from _texts(v, f"{path}.{k}")
    elif isinstance(node, list):
        for k, v in enumerate(node):
            yield from _texts(v, f"{path}.{k}")


@pytest.mark.parametrize("name", ["actions.yaml", "commentary_rules.yaml"])
def test_every_data_text_in_both_languages(name):
    data = yaml.safe_load((DATA / "catalogue" / name).read_text(encoding="utf-8"))
    texts = list(_texts(data))
    assert texts
    for path, text in texts:
        assert set(text) == {"en", "nl"}, path
        assert all(isinstance(text[lang], str) and text[lang].strip() for lang in LANGS), path


def test_every_scored_indicator_has_actions(catalogue):
    from auditlib.handles import load_actions

    actions = load_actions(catalogue)
    for iid in catalogue.scored_ids:
        assert len(actions.actions.get(iid, [])) >= 1, iid
    assert sum(len(actions.actions.get(i, [])) >= 2 for i in catalogue.scored_ids) == len(catalogue.scored_ids)


def test_every_rule_has_a_label_in_both_languages(catalogue):
    rules = load_rules(catalogue).rules
    for name in type(rules).model_fields:
        rule = getattr(rules, name)
        assert rule.label.en and rule.label.nl, name


def _covering_results(catalogue, synthetic_db):
    """Example clients plus crafted profiles, so every template gets rendered."""
    results = [analyse(c, catalogue=catalogue) for c in CLIENTS]
    results.append(run(catalogue, synthetic_db, **{**_extreme(catalogue, "structure", True),
                                                   **_extreme(catalogue, "services", False)}))
    results.append(run(catalogue, synthetic_db, country="NO", founding_year=2023, public_funding_share=90,
                       funding_sources=1, committed_members=3000, active_member_share=1))
    now = make_profile(catalogue, benchmark_year=2026, service_usage=90, committed_members=10)
    then = make_profile(catalogue, benchmark_year=2024, service_usage=5)
    results.append(analyse(ClientFolder("c", Path("."), now, (then,), None), catalogue=catalogue,
                           benchmark=synthetic_db))
    differ = make_db(_frame_with_sme_shares(make_reference_frame(catalogue), 40.0))
    results.append(run(catalogue, differ, field="maritime", sme_share=80))
    return results


def test_every_template_renders_in_both_languages(catalogue, synthetic_db):
    results = _covering_results(catalogue, synthetic_db)
    for lang in LANGS:
        used = set()
        for result in results:
            interp = interpret(result, lang)          # StrictUndefined: a missing variable raises
            interp.to_markdown()
            used |= set(interp.templates_used)
        assert used == set(template_names(lang)) - {"_phrases.j2"}, set(template_names(lang)) - used


def test_missing_variable_fails_loudly():
    with pytest.raises(jinja2.UndefinedError):
        commentary_env("en").get_template("unanswered.j2").render()


def test_unknown_language_is_refused(catalogue, synthetic_db):
    from auditlib.errors import ParameterError

    with pytest.raises(ParameterError):
        interpret(run(catalogue, synthetic_db), "de")


def test_number_formatting_per_language():
    assert fmt_number(1234.5, "en") == "1,234.5" and fmt_number(1234.5, "nl") == "1.234,5"
    assert fmt_number(1300, "nl") == "1.300" and fmt_number(0.5, "nl") == "0,5" and fmt_number(2.0, "en") == "2"


def test_dutch_text_uses_decimal_comma(catalogue, synthetic_db):
    interp = interpret(run(catalogue, synthetic_db, management_fte=1.5), "nl")
    assert "1,5 fte" in interp.to_markdown()
    assert "Totaalbeeld" in interp.to_markdown() and "Verbeterhandvatten" in interp.to_markdown()


def test_interpretation_is_deterministic(catalogue, synthetic_db):
    a = interpret(run(catalogue, synthetic_db, service_usage=10, sme_share=20))
    b = interpret(run(catalogue, synthetic_db, service_usage=10, sme_share=20))
    assert a.to_markdown() == b.to_markdown()
    pd.testing.assert_frame_equal(a.handles, b.handles)


# --- the command line -----------------------------------------------------------------------------

def _client_folder(tmp_path: Path, catalogue) -> Path:
    folder = tmp_path / "clients" / "tmp-client"
    folder.mkdir(parents=True)
    answers = {i: None for i in catalogue.ids}
    answers.update(committed_members=40, member_types=4, management_fte=1.5, english_website=1, service_usage=12)
    data = {"profile": {"name": "Tmp Cluster", "country": "DE", "field": "ict", "founding_year": 2012,
                        "benchmark_year": 2025, "region": "R", "contact": "a@b.example"},
            "answers": answers}
    (folder / "questionnaire.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (folder / "notes.yaml").write_text(yaml.safe_dump(
        {"notes": [{"anchor": "dimension:services", "text": "Nieuw dienstenaanbod sinds 2024."}]}), encoding="utf-8")
    return folder


def test_cli_interpret_prints_dutch(catalogue, reference_frame, tmp_path, capsys):
    from auditlib.cli import main

    folder = _client_folder(tmp_path, catalogue)
    bench = tmp_path / "benchmark.csv"
    reference_frame.to_csv(bench)
    code = main(["interpret", str(folder), "--lang", "nl", "--benchmark", str(bench),
                 "--catalogue", str(DATA / "catalogue")])
    out = capsys.readouterr().out
    assert code == 0
    assert "# Interpretatie: Tmp Cluster" in out and "## Totaalbeeld" in out and "percentiel" in out
    assert "**Notitie van de auditor:** Nieuw dienstenaanbod sinds 2024." in out
    assert "## Verbeterhandvatten" in out and "1,5 fte" in out


def test_cli_interpret_reports_bad_notes(catalogue, reference_frame, tmp_path, capsys):
    from auditlib.cli import main

    folder = _client_folder(tmp_path, catalogue)
    (folder / "notes.yaml").write_text(yaml.safe_dump({"notes": [{"anchor": "dimension:nope", "text": "x"}]}),
                                       encoding="utf-8")
    bench = tmp_path / "benchmark.csv"
    reference_frame.to_csv(bench)
    code = main(["interpret", str(folder), "--benchmark", str(bench), "--catalogue", str(DATA / "catalogue")])
    err = capsys.readouterr().err
    assert code == 1 and "notes.yaml" in err and "key notes.0" in err and "dimension:nope" in err


@pytest.mark.skipif(not CLIENTS, reason="no example clients")
def test_cli_interpret_example_client_in_dutch(capsys):
    from auditlib.cli import main

    assert main(["interpret", CLIENTS[0].name, "--lang", "nl"]) == 0
    out = capsys.readouterr().out
    assert "## Totaalbeeld" in out and "## Verbeterhandvatten" in out


def test_markdown_can_leave_out_handles_and_notes(catalogue, synthetic_db):
    from auditlib.notes import Note

    notes = AuditorNotes((Note("overall", "A note."),), ())
    interp = interpret(run(catalogue, synthetic_db, notes=notes, service_usage=3))
    full, bare = interp.to_markdown(), interp.to_markdown(handles=False, notes=False)
    assert "## Improvement handles" in full and "A note." in full
    assert "## Improvement handles" not in bare and "A note." not in bare and "## Overall picture" in bare


def test_group_names_are_in_the_language_asked_for(catalogue, synthetic_db):
    """Every group a commentary names is named in its language: the English text never says
    "organisaties uit hetzelfde land: NO", the Dutch never "organisations from the same country"
    (a small country falls back, so the asked-for group is named in the fallback sentence)."""
    from auditlib.peers import BUILT_IN, built_in_spec

    for country in ("NO", "DE"):
        result = run(catalogue, synthetic_db, country=country)
        specs = [built_in_spec(key, result.client, catalogue) for key in BUILT_IN]
        texts = {lang: interpret(result, lang).to_text() for lang in LANGS}
        named = {lang: [s for s in specs if (s.name_en if lang == "en" else s.name_nl) in texts[lang]]
                 for lang in LANGS}
        assert named["en"] and named["nl"], "the commentary names at least one group"
        for spec in specs:
            assert spec.name_nl not in texts["en"], spec.name_nl
            assert spec.name_en not in texts["nl"], spec.name_en


# --- values, escaping and the notes in words, in both languages ------------------------------------

@pytest.mark.parametrize("iid, value, en, nl", [
    ("written_strategy", 1, "yes", "ja"),
    ("written_strategy", 0, "no", "nee"),
    ("written_strategy", 0.5, "yes", "ja"),                  # the boundary: half or more is yes
    ("written_strategy", 0.49, "no", "nee"),
    ("written_strategy", None, "not answered", "niet beantwoord"),
    ("sme_share", float("nan"), "not answered", "niet beantwoord"),
    ("member_involvement", 2, "consulted (level 2 of 4)", "niveau 2 van 4 (geraadpleegd)"),
    ("member_involvement", 4.0, "co-deciding in board and working groups (level 4 of 4)",
     "niveau 4 van 4 (beslissen mee in het bestuur en in werkgroepen)"),
    ("member_involvement", 2.5, "2.5 level 0-4", "2,5 niveau 0-4"),      # between levels: the number
    ("management_fte", 1.5, "1.5 FTE", "1,5 fte"),
    ("sme_share", 85, "85%", "85%"),
    ("committed_members", 1, "1 participant", "1 deelnemer"),
    ("committed_members", 1234, "1,234 participants", "1.234 deelnemers"),
])
def test_a_value_in_words_in_each_language(catalogue, iid, value, en, nl):
    from auditlib.interpret import value_text

    ind = catalogue.indicator(iid)
    assert (value_text(ind, value, "en"), value_text(ind, value, "nl")) == (en, nl)


def test_a_level_outside_the_named_levels_is_said_as_a_number(catalogue):
    from auditlib.interpret import value_text

    ind = catalogue.indicator("member_involvement")
    partial = ind.model_copy(update={"levels": {k: v for k, v in ind.levels.items() if k != 3}})
    assert value_text(partial, 3, "en") == "3 level 0-4" and value_text(partial, 3, "nl") == "3 niveau 0-4"
    assert value_text(partial, 2, "nl") == "niveau 2 van 4 (geraadpleegd)"


def test_catalogue_level_names_and_units_are_escaped(catalogue):
    from auditlib.interpret import value_text

    ind = catalogue.indicator("member_involvement")
    odd = ind.model_copy(update={
        "levels": {**ind.levels, 1: ind.levels[1].model_copy(update={"en": "<i>informed</i>", "nl": "*geïnformeerd*"})},
        "unit": ind.unit.model_copy(update={"en": "<u>", "nl": "[niveau]"})})
    assert value_text(odd, 1, "en") == "&lt;i&gt;informed&lt;/i&gt; (level 1 of 4)"
    assert value_text(odd, 1, "nl") == "niveau 1 van 4 (\\*geïnformeerd\\*)"
    assert value_text(odd, 1.5, "en") == "1.5 &lt;u&gt;" and value_text(odd, 1.5, "nl") == "1,5 \\[niveau\\]"


@pytest.mark.parametrize("text, escaped", [
    ("a*b_c[d](e)`f`~g|h\\i", "a\\*b\\_c\\[d\\](e)\\`f\\`\\~g\\|h\\\\i"),
    ("<b>Evil</b> & \"Co\"", "&lt;b&gt;Evil&lt;/b&gt; &amp; \"Co\""),      # quotes stay: no attribute here
    ("Two\n  lines\tand   spaces ", "Two lines and spaces"),               # one line, whitespace collapsed
    ("see http://x.example, HTTPS://y.example and www.z.example",
     "see http\\://x.example, HTTPS\\://y.example and www\\.z.example"),
    ("mailto:a@b.example ftp:x file:/y", "mailto\\:a@b.example ftp\\:x file\\:/y"),
    ("3.5 www", "3.5 www"),                                                 # no autolink, nothing escaped
])
def test_outside_text_is_escaped_for_markdown_and_html(text, escaped):
    from auditlib.interpret import esc

    assert esc(text) == escaped


def test_the_terminal_text_shows_escaped_names_as_written(catalogue, synthetic_db):
    name = "A*B_C [x](http://evil.example) & <Co>"
    profile = dataclasses.replace(make_profile(catalogue), name=name)
    interp = interpret(analyse(profile, catalogue=catalogue, benchmark=synthetic_db))
    assert name in interp.to_text()
    md = interp.to_markdown()
    assert name not in md and "[x](http" not in md
    assert "A\\*B\\_C \\[x\\](http\\://evil.example) &amp; &lt;Co&gt;" in md


def test_notes_are_escaped_keep_their_lines_and_are_marked_in_the_language(catalogue, synthetic_db):
    from auditlib.notes import Note

    notes = AuditorNotes((Note("dimension:services", "  <b>New</b> offer & more\nsince 2024.  "),), ())
    result = run(catalogue, synthetic_db, notes=notes)
    for lang, marker in (("en", "Auditor's note:"), ("nl", "Notitie van de auditor:")):
        [st] = interpret(result, lang).statements("auditor")
        assert (st.text, st.source, st.anchor, st.kind, st.facts, st.marker) == (
            "&lt;b&gt;New&lt;/b&gt; offer &amp; more\nsince 2024.", "auditor", "dimension:services", "note", {},
            marker)


def test_an_unknown_language_is_refused_with_the_languages_named():
    from auditlib.errors import ParameterError

    for lang in ("de", "EN", ""):
        with pytest.raises(ParameterError) as exc:
            template_names(lang)
        assert "en, nl" in str(exc.value) and f"'{lang}'" in str(exc.value)


def test_band_and_label_names_in_the_language_asked(catalogue):
    from auditlib.interpret import band_name, label_name

    assert [(band_name(catalogue, b, "en"), band_name(catalogue, b, "nl")) for b in ("bottom_quartile", "top_10")] \
        == [("bottom quartile", "onderste kwartiel"), ("top 10%", "top 10%")]
    assert [(label_name(catalogue, x, "en"), label_name(catalogue, x, "nl")) for x in ("bronze", "gold")] \
        == [("Bronze", "Brons"), ("Gold", "Goud")]
    with pytest.raises(ValueError):
        band_name(catalogue, None, "en")          # a missing percentile has no band to name


def test_a_group_that_stands_in_names_the_group_asked_for_in_the_language(catalogue, synthetic_db):
    """The group asked for is named (in the language, its name escaped) beside the one used:
    a country too small falls back to all organisations, and so does a custom group of it."""
    small = run(catalogue, synthetic_db, country="NO")
    custom = run(catalogue, synthetic_db, country="DE", groups=["field", "tiny*=country:NO"])
    expected = {"en": ["organisations from the same country: NO, for which all organisations (n = 300) stands in",
                       "organisations from EU member states (not shown:",
                       "tiny\\*, for which all organisations (n = 300) stands in"],
                "nl": ["organisaties uit hetzelfde land: NO (vervangen door alle organisaties (n = 300))",
                       "organisaties uit EU-lidstaten (niet getoond:",
                       "tiny\\* (vervangen door alle organisaties (n = 300))"]}
    for lang in LANGS:
        text = " ".join(st.text for result in (small, custom) for st in statements(interpret(result, lang), "groups"))
        for words in expected[lang]:
            assert words in text, (lang, words)
