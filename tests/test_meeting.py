"""The interpretation meeting's widget logic, headless: set values, click buttons, read the screen.

Every figure on screen is compared with the AuditResult formatted by auditlib.present; files
the screen writes (notes.yaml, scenarios.yaml, the report, the summary) are read back.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from auditlib import present
from auditlib.audit import reference_for
from auditlib.meeting import meeting_from_parameters
from auditlib.meeting.session import MeetingSession
from auditlib.disclosure import whatif_percentile, whatif_step
from auditlib.meeting.widgets import MeetingApp
from auditlib.notes import load_notes
from auditlib.scoring import _signs
from auditlib.testing import REPO

CLIENT = "nl-delta-water"
IND = "secured_funding_years"          # real answer 1; Gold q15 needs 2


@pytest.fixture()
def client_dir(tmp_path) -> Path:
    folder = tmp_path / "clients" / CLIENT
    shutil.copytree(REPO / "data" / "clients" / CLIENT, folder)
    return folder


@pytest.fixture()
def app(client_dir, tmp_path) -> MeetingApp:
    session = MeetingSession(client_dir, formats=("html",), outputs_dir=tmp_path / "outputs")
    return MeetingApp(session)


def cells(html: str, **attrs) -> list[str]:
    """The cell texts of the first table row whose data-* attributes match."""
    sel = "".join(rf'[^>]*data-{k}="{re.escape(v)}"' for k, v in attrs.items())
    m = re.search(rf"<tr{sel}[^>]*>(.*?)</tr>", html)
    assert m, f"no row {attrs}"
    return [re.sub("<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(1))]


def row_of(html: str, first_cell: str) -> list[str]:
    for m in re.finditer(r"<tr[^>]*>(.*?)</tr>", html):
        tds = [re.sub("<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(1))]
        if tds and tds[0] == first_cell:
            return tds
    raise AssertionError(f"no row starting with {first_cell!r}")


# --- overview, drill-down, language ----------------------------------------------------------

def test_overview_shows_the_results_figures_through_present(app):
    s = app.s
    prof = s.result.profile_in(s.primary).set_index("dimension")
    for d in s.catalogue.dimensions:
        row = row_of(app.overview_html.value, d.name["en"])
        assert row[1] == present.dimension_score(prof.at[d.id, "score"], "en")
        assert row[2] == present.peer_median(prof.at[d.id, "peer_median"], "en")
    gold = s.result.labels.verdicts["gold"]
    assert present.gold_total(gold.total_score, "en") in row_of(app.overview_html.value, "Gold")[2]
    first = s.handles().iloc[0]
    assert s.catalogue.indicator(first["indicator"]).name["en"] in app.overview_html.value


def test_switching_the_peer_group_redraws_the_profile(app):
    app.group_select.value = "country"
    assert app.s.primary == "country"
    prof = app.s.result.profile_in("country").set_index("dimension")
    d = app.s.catalogue.dimensions[0]
    assert row_of(app.overview_html.value, d.name["en"])[1] == present.dimension_score(prof.at[d.id, "score"], "en")
    assert "organisations from the same country" in app.overview_html.value


def test_drill_down_indicator_shows_every_group_spread_target_and_criterion(app):
    s = app.s
    d = s.catalogue.indicator(IND).dimension
    app.dim_select.value = d
    app.ind_select.value = IND
    html = app.ind_html.value
    for g in s.result.peer_groups:
        p = s.result.positions_in(g.requested).set_index("indicator").loc[IND]
        row = row_of(html, g.name("en"))
        assert row[2] == present.percentile(p["percentile"], "en")
        assert row[1] == present.group_size(g.public_n, s.floor, "en")
    assert "Target for Gold" in html and "quality threshold" in html      # the criterion it feeds, in words
    assert "q15" not in re.sub(r"<[^>]+>", " ", html)                     # never its id (issue 15)
    assert "P10 · P25" in html


def test_language_switch_to_dutch(app):
    app.lang_toggle.value = "nl"
    assert app.tabs.titles[0] == "Overzicht"
    assert "Dimensieprofiel" in app.overview_html.value
    assert app.report_button.description == "Rapport opnieuw maken"
    assert not app.errors


# --- what-if -----------------------------------------------------------------------------------

def _raw_percentile(session, group, value) -> tuple[float, int]:
    """The percentile of `value` among the group's answering peers, computed from the database here."""
    ref = reference_for(session.benchmark, session.catalogue)
    k = session.catalogue.ids.index(IND)
    peers = ref.values[group.mask, k]
    peers = peers[~np.isnan(peers)]
    sign = _signs(session.catalogue)[k]
    worse = (peers < value).sum() if sign > 0 else (peers > value).sum()
    return (worse + 0.5 * (peers == value).sum()) / len(peers) * 100, len(peers)


def test_changing_an_answer_updates_percentiles_flips_and_keeps_the_real_answers(app):
    s = app.s
    real_positions = s.result.positions.copy()
    app.wi_indicator.value = IND
    assert app.wi_value.value == "1"
    app.wi_value.value = "2"
    assert app.wi_msg.value == ""
    for g in s.result.peer_groups:
        raw, n = _raw_percentile(s, g, 2.0)
        step = whatif_step(n, s.floor)
        shown = cells(app.wi_html.value, indicator=IND, group=g.requested)
        real = s.result.positions_in(g.requested).set_index("indicator").at[IND, "percentile"]
        assert shown[2] == present.percentile(real, "en")
        expected = present.percentile(whatif_percentile(raw, n, s.floor)[0], "en") if step \
            else "not shown for what-if: group too small"
        assert shown[3] == expected, g.requested
    top = s.handles(s.scenario).iloc[0]
    assert s.catalogue.indicator(top["indicator"]).name["en"] in app.wi_handles_html.value
    assert "(scenario)" in app.wi_handles_html.value
    flips = cells(app.wi_html.value, criterion="q15")
    assert flips[-1] == "now met" and flips[1] == "quality threshold" and "q15" not in flips
    assert 'class="flip" data-criterion="q15"' in app.wi_html.value
    # the real result is untouched: a scenario is never mixed with the real answers
    assert s.result.client.answers[IND] == 1
    assert s.result.positions.equals(real_positions)
    assert s.scenario.client.answers[IND] == 2
    app.wi_reset.click()
    assert s.scenario is None and "No answers changed" in app.wi_html.value and app.wi_handles_html.value == ""


def test_the_slider_changes_the_answer_within_the_catalogue_range(app):
    ind = app.s.catalogue.indicator(IND)
    app.wi_indicator.value = IND
    assert (app.wi_slider.min, app.wi_slider.max, app.wi_slider.step) == (ind.min, ind.max, 1.0)
    assert app.wi_slider.value == 1
    app.wi_slider.value = 4
    assert app.wi_value.value == "4" and app.s.whatif == {IND: 4.0}
    app.wi_value.value = "3"
    assert app.wi_slider.value == 3 and app.s.whatif == {IND: 3.0}


def test_an_answer_outside_the_catalogue_range_is_refused_like_the_intake(app):
    app.wi_indicator.value = IND
    app.wi_value.value = "99"
    assert "above the maximum of 10" in app.wi_msg.value and "expected a whole number" in app.wi_msg.value
    assert app.s.scenario is None
    app.wi_value.value = "1.5"
    assert "not a whole number" in app.wi_msg.value


def test_whatif_rule_steps():
    assert whatif_step(1278, 10) == 1
    assert whatif_step(177, 10) == 10
    assert whatif_step(33, 10) == 50
    assert whatif_step(19, 10) is None
    shown = whatif_percentile(np.array([99.96, 100.0, 37.4, 100.0, 12.0]), np.array([1278, 1278, 200, 33, 19]), 10)
    assert list(shown[:4]) == [99, 99, 35, 50] and np.isnan(shown[4])   # the maximum is never revealed


def test_a_sweep_reveals_no_extreme_and_only_coarse_ranks(app):
    """Sweep an answer over its whole range against every group. The shown percentile may only
    change where at least `floor` peers lie at or below the new value and at least `floor` at or
    above the old one (so never at one of the floor smallest or largest answers), and it takes at
    most 100 / step values: a sweep yields quantiles of blocks of `floor` peers, no single answer."""
    s = app.s
    ref = reference_for(s.benchmark, s.catalogue)
    for iid in (IND, "total_budget" if "total_budget" in s.catalogue.by_id else IND):
        ind = s.catalogue.indicator(iid)
        k = s.catalogue.ids.index(iid)
        grid = np.linspace(ind.min, min(ind.max, np.nanmax(ref.values[:, k]) * 1.1), 150)
        if ind.is_integer:
            grid = np.unique(np.round(grid))
        real = s.result.client.answers.get(iid)
        grid = grid[grid != real]          # the real answer shows the report's own figure
        shown = {g.requested: [] for g in s.result.peer_groups}
        for v in grid:
            s.set_answer(iid, float(v))
            pos = s.shown.positions
            row = pos.loc[pos["indicator"] == iid].set_index("group")["percentile"]
            for g in s.result.peer_groups:
                shown[g.requested].append(row[g.requested])
        for g in s.result.peer_groups:
            if not g.available:
                continue
            peers = ref.values[g.mask, k]
            peers = peers[~np.isnan(peers)]
            step = whatif_step(len(peers), s.floor)
            seq = np.array(shown[g.requested], dtype=float)
            if step is None:
                assert np.isnan(seq).all(), g.requested
                continue
            assert len(set(seq[~np.isnan(seq)])) <= 100 // step
            assert np.nanmax(seq) <= 100 - step
            for i in range(1, len(grid)):
                if seq[i] != seq[i - 1]:
                    a, b = grid[i - 1], grid[i]
                    assert (peers <= b).sum() >= s.floor and (peers >= a).sum() >= s.floor, (g.requested, a, b)
        s.reset_whatif()


# --- peer groups -------------------------------------------------------------------------------

def test_custom_group_shows_its_live_n(app):
    app.custom_name.value = "benelux"
    app.custom_filter.value = "country:NL|BE|LU"
    g = app.s.check_group("benelux", "country:NL|BE|LU").group
    assert f"Organisations in this group: {present.group_size(g.n, app.s.floor, 'en')}" in app.custom_msg.value


def test_a_group_below_the_floor_is_refused_and_its_size_not_shown(app):
    app.custom_name.value = "tiny"
    app.custom_filter.value = "country:NL,field:ict,founding_year:2015-2016"
    msg = app.custom_msg.value
    assert present.group_size(None, app.s.floor, "en") in msg and "anonymity floor of 10" in msg
    app.custom_add.click()
    assert "tiny" not in app.s.group_keys()


def test_a_group_that_breaks_the_differencing_rule_is_refused_for_the_whole_meeting(app):
    s = app.s
    app.custom_name.value = "nlall"
    app.custom_filter.value = "country:NL"
    app.custom_add.click()
    assert "nlall" in s.group_keys() or "country" in s.group_keys()
    # one organisation fewer than the country group, shown at the start of the meeting
    n_country = s.result.group("country").n
    candidate = None
    for lo in range(1900, 2025):
        c = s.check_group("nlyoung", f"country:NL,founding_year:{lo}-2100")
        if c.group is not None and 1 <= n_country - c.group.n < s.floor and c.group.available:
            candidate = lo
            break
    assert candidate is not None
    app.custom_name.value = "nlyoung"
    app.custom_filter.value = f"country:NL,founding_year:{candidate}-2100"
    assert "Refused" in app.custom_msg.value and "fewer than 10 organisations" in app.custom_msg.value
    app.custom_add.click()
    assert "nlyoung" not in s.group_keys()
    assert "Refused" in app.custom_msg.value


def test_switching_the_chosen_group_keeps_what_the_meeting_showed():
    """analyse() admits the chosen group first. For a Norwegian client 'field' is shown at the
    start and 'eu' refused (it differs from the field group by a few non-EU members). Switching
    to another group must not let 'eu' in and push 'field' out: the meeting's ledger keeps the
    group shown earlier, and choosing the refused 'eu' itself is refused with the reason."""
    app = MeetingApp(MeetingSession("no-fjord-maritime"))
    assert app.s.primary == "field" and not app.s.result.group("eu").available
    app.group_select.value = "country"
    assert app.s.primary == "country" and app.group_msg.value == ""
    assert app.s.result.group("field").available and not app.s.result.group("eu").available
    app.group_select.value = "eu"
    assert "Refused" in app.group_msg.value and "differs from" in app.group_msg.value
    assert app.s.primary == "country" and app.group_select.value == "country"
    assert not app.s.result.group("eu").available


def test_bad_custom_group_text_is_a_message_not_a_traceback(app):
    app.custom_name.value = "x"
    app.custom_filter.value = "country:"
    assert "Not a group" in app.custom_msg.value or "Refused" in app.custom_msg.value
    app.custom_filter.value = "colour:blue"
    assert "Not a group" in app.custom_msg.value
    assert not app.errors


# --- notes -------------------------------------------------------------------------------------

HAND = """# Hand-written header comment: keep me.
improvement_areas: [service_usage]
notes:
  - anchor: overall
    author: J. Smit   # an extra key the workbench does not know
    text: >-
      Written by hand before the meeting,
      folded over two lines.
  - anchor: "dimension:services"
    text: Services note to be edited.
"""


def test_notes_round_trip_keeps_hand_written_notes_comments_and_keys(app, client_dir):
    path = client_dir / "notes.yaml"
    path.write_text(HAND, encoding="utf-8")
    app.s.notes = type(app.s.notes).load(path, app.s.catalogue)
    app.refresh()
    app.note_anchor.value = "dimension:services"
    assert app.note_text.value == "Services note to be edited."
    app.note_text.value = "Edited in the meeting."
    app.note_update.click()
    app.note_anchor.value = "indicator:sme_share"
    app.note_text.value = "New note on SMEs."
    app.note_new.click()
    app.area_selects[0].value = "service_usage"
    app.area_selects[1].value = "private_funding_share"
    app.area_selects[2].value = "international_activities"
    # a colleague adds a note by hand while the meeting runs
    path.write_text(path.read_text() + "  - anchor: overall\n    text: Added by hand during the meeting.\n")
    app.notes_save.click()
    assert "Notes saved" in app.notes_msg.value, app.notes_msg.value
    text = path.read_text()
    assert "# Hand-written header comment: keep me." in text
    assert "author: J. Smit" in text and "# an extra key" in text
    saved = load_notes(path, app.s.catalogue)
    by = {(n.anchor, n.text) for n in saved.notes}
    assert ("overall", "Written by hand before the meeting, folded over two lines.") in by
    assert ("overall", "Added by hand during the meeting.") in by
    assert ("dimension:services", "Edited in the meeting.") in by
    assert ("indicator:sme_share", "New note on SMEs.") in by
    assert ("dimension:services", "Services note to be edited.") not in by
    assert saved.improvement_areas == ("service_usage", "private_funding_share", "international_activities")
    # the screen now reads what the file holds, and Silver counts the three areas
    assert app.s.result.labels.improvement_areas == saved.improvement_areas


def test_notes_save_is_atomic_when_the_write_fails(app, client_dir, monkeypatch):
    path = client_dir / "notes.yaml"
    before = path.read_bytes()
    app.note_anchor.value = "overall"
    app.note_text.value = "This note will not reach the disk."
    app.note_new.click()

    def half_write(self, data, *args, **kwargs):
        with open(self, "w", encoding="utf-8") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Path, "write_text", half_write)
    app.notes_save.click()
    monkeypatch.undo()
    assert "were not saved" in app.notes_msg.value and "No space left" in app.notes_msg.value
    assert path.read_bytes() == before
    assert sorted(p.name for p in client_dir.iterdir() if p.name.startswith(".")) == []
    app.notes_save.click()                 # the edit is still there, and saves once the disk is back
    assert "This note will not reach the disk." in path.read_text()


def test_a_notes_file_the_report_cannot_read_is_never_overwritten(client_dir, tmp_path):
    path = client_dir / "notes.yaml"
    path.write_text("notes:\n  - anchor: dimension:nonsense\n    text: hand-written\n", encoding="utf-8")
    before = path.read_bytes()
    app = MeetingApp(MeetingSession(client_dir, outputs_dir=tmp_path / "out"))
    assert "unknown dimension in anchor" in app.notes_msg.value
    app.note_text.value = "A new note."
    app.note_new.click()
    app.notes_save.click()
    assert "were not saved" in app.notes_msg.value and "correct it by hand" in app.notes_msg.value
    assert path.read_bytes() == before


def test_deleting_a_note(app, client_dir):
    path = client_dir / "notes.yaml"
    app.note_anchor.value = "indicator:active_member_share"
    assert app.note_list.value is not None
    app.note_delete.click()
    app.notes_save.click()
    assert all(n.anchor != "indicator:active_member_share" for n in load_notes(path, app.s.catalogue).notes)


# --- scenarios, report, summary -----------------------------------------------------------------

def test_scenario_saved_by_name_reloaded_and_chosen_for_the_report(app, client_dir):
    app.wi_indicator.value = IND
    app.wi_value.value = "3"
    app.sc_name.value = "Three years funded"
    app.sc_save.click()
    data = yaml.safe_load((client_dir / "scenarios.yaml").read_text())
    assert data["scenarios"] == [{"name": "Three years funded", "in_report": False, "answers": {IND: 3}}]
    assert "NOT the client's answers" in (client_dir / "scenarios.yaml").read_text()
    app.wi_reset.click()
    assert app.s.scenario is None
    app.sc_select.value = "Three years funded"
    app.sc_load.click()
    assert app.s.whatif == {IND: 3.0} and app.s.scenario.client.answers[IND] == 3
    app.sc_report.value = ("Three years funded",)
    assert yaml.safe_load((client_dir / "scenarios.yaml").read_text())["scenarios"][0]["in_report"] is True
    # a fresh meeting reads it back
    again = MeetingSession(client_dir)
    assert again.scenarios[0].answers == {IND: 3.0} and again.scenarios[0].in_report


def test_scenario_appendix_for_the_report_is_marked_and_uses_the_whatif_rule(app, client_dir):
    from auditlib.errors import ParameterError
    from auditlib.meeting.scenarios import scenario_appendix

    app.wi_indicator.value = IND
    app.wi_value.value = "2"
    app.sc_name.value = "Two years"
    app.sc_save.click()
    frag = scenario_appendix(app.s.result, ["Two years"], "en", client_dir)
    html = frag._repr_html_()
    assert "Appendix: what-if scenarios (not the client&#x27;s answers)" in html
    field = app.s.scenario.positions_in().set_index("indicator").at[IND, "percentile"]
    real = app.s.result.positions_in().set_index("indicator").at[IND, "percentile"]
    assert f"{present.percentile(real, 'en')} → {present.percentile(field, 'en')}" in html
    assert "Gold: not yet → not yet" in html
    assert scenario_appendix(app.s.result, [], "en", client_dir)._repr_html_() == ""
    with pytest.raises(ParameterError, match="no scenario 'Nope'"):
        scenario_appendix(app.s.result, ["Nope"], "en", client_dir)
    nl = scenario_appendix(app.s.result, ["Two years"], "nl", client_dir)._repr_html_()
    assert "Bijlage: wat-als-scenario" in nl


def test_scenario_without_a_name_or_change_is_refused(app):
    app.sc_name.value = "x"
    app.sc_save.click()
    assert "Change at least one answer" in app.sc_msg.value
    app.wi_indicator.value = IND
    app.wi_value.value = "2"
    app.sc_name.value = "../../etc"
    app.sc_save.click()
    assert "needs a name" in app.sc_msg.value


def test_meeting_summary_export(app, tmp_path):
    app.summary_format.value = "md"
    app.summary_button.click()
    files = list((tmp_path / "outputs" / CLIENT).glob("meeting-*.md"))
    assert len(files) == 1, app.summary_html.value
    text = files[0].read_text()
    assert "Agreed improvement areas" in text and "Members using services" in text
    assert "Deltawerk" in text and "Peer groups used" in text
    app.summary_format.value = "html"
    app.summary_button.click()
    html = next((tmp_path / "outputs" / CLIENT).glob("meeting-*.html")).read_text()
    assert html.startswith("<!DOCTYPE html>") and "<h2>Notes</h2>" in html


def test_report_button_is_refused_while_a_batch_writes_to_the_outputs_folder(app, tmp_path):
    from auditlib.files import outputs_lock

    with outputs_lock(tmp_path / "outputs"):
        app.report_button.click()
        app.report_thread.join(60)
    assert "The report failed: another auditlib batch or run is writing" in app.report_html.value
    assert app.report_button.disabled is False and app.report_progress.bar_style == "danger"


@pytest.mark.slow
def test_report_button_regenerates_the_report_and_a_failure_keeps_it(app, tmp_path, monkeypatch):
    app.note_anchor.value = "overall"
    app.note_text.value = "Agreed in the meeting: apply for Silver in 2027."
    app.note_new.click()
    app.wi_indicator.value = IND
    app.wi_value.value = "2"
    app.sc_name.value = "Two years funded"
    app.sc_save.click()
    app.sc_report.value = ("Two years funded",)
    app.report_button.click()
    app.report_thread.join(300)
    assert "Report written" in app.report_html.value, app.report_html.value
    report = next((tmp_path / "outputs" / CLIENT).glob("*/report.html"))
    text = report.read_text()
    assert "Agreed in the meeting: apply for Silver in 2027." in text
    assert "Appendix: what-if scenarios" in text and "Two years funded" in text
    # the real figures of the report are the real answers': the scenario is only in its appendix
    real = app.s.result.positions_in().set_index("indicator").at[IND, "percentile"]
    assert present.percentile(real, "en") in text
    assert app.report_progress.value == 100 and app.report_progress.bar_style == "success"
    before = report.read_bytes()
    # a broken report notebook: the reason is shown and the earlier report stays
    import auditlib.report as report_pkg
    broken = tmp_path / "broken.ipynb"
    import nbformat
    nb = nbformat.read(report_pkg.NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('deliberately broken')"))
    nbformat.write(nb, broken)
    monkeypatch.setattr(report_pkg, "NOTEBOOK", broken)
    app.report_button.click()
    app.report_thread.join(300)
    assert "The report failed" in app.report_html.value and "earlier report is kept" in app.report_html.value
    assert report.read_bytes() == before


def test_the_notebook_parameters_build_the_screen(client_dir, tmp_path):
    app = meeting_from_parameters({"client_id": CLIENT, "lang": "nl", "clients_dir": str(client_dir.parent),
                                   "outputs_dir": str(tmp_path / "out"), "print": print})
    assert app.s.lang == "nl" and app.tabs.titles[3] == "Wat als"
    with pytest.raises(Exception, match="lang"):
        meeting_from_parameters({"client_id": CLIENT, "lang": "fr"})


def test_cli_meeting_refuses_an_unknown_client(capsys):
    from auditlib.cli import main

    assert main(["meeting", "no-such-client", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "no-such-client" in err and "Traceback" not in err


def test_cli_meeting_refuses_a_port_in_use(capsys):
    import socket

    from auditlib.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["meeting", CLIENT, "--no-browser", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is in use" in err and "Traceback" not in err
