"""Peer groups: built-in and custom groups, the anonymity floor and its fallback, exclusion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditlib.audit import analyse
from auditlib.errors import ParameterError
from auditlib.peers import parse_custom

from auditlib.testing import make_db, make_profile


def test_every_built_in_group_reports_its_size(catalogue, reference_frame):
    # no non-EU organisation: 'eu' equals 'all' (a handful of Norwegians would be refused as differencing)
    reference_frame = reference_frame.assign(country=reference_frame["country"].replace({"NO": "DE"}))
    result = analyse(make_profile(catalogue, country="DE", field="food"), catalogue=catalogue,
                     benchmark=make_db(reference_frame))
    table = result.peer_group_table().set_index("group")
    assert list(table.index) == ["all", "field", "country", "eu", "age_band", "gold"]
    assert table.loc["all", "n"] == len(reference_frame)
    assert table.loc["field", "n"] == (reference_frame["field"] == "food").sum()
    assert table.loc["country", "n"] == (reference_frame["country"] == "DE").sum()
    assert table.loc["eu", "n"] == reference_frame["country"].isin(catalogue.eu_members).sum()
    assert table.loc["gold", "n"] == (reference_frame["label"] == "gold").sum()
    age = reference_frame["benchmark_year"] - reference_frame["founding_year"]
    band = next(b for b in catalogue.peers.age_bands if b.id == catalogue.age_band(2026 - 2010))
    assert table.loc["age_band", "n"] == age.between(band.min, band.max).sum()


def test_small_country_falls_back_to_eu_and_records_it(catalogue, reference_frame):
    frame = reference_frame.copy()
    frame.loc[frame.index[:7], "country"] = "LU"
    frame.loc[frame["country"].eq("LU") & ~frame.index.isin(frame.index[:7]), "country"] = "DE"
    result = analyse(make_profile(catalogue, country="LU"), catalogue=catalogue, benchmark=make_db(frame),
                     groups=["country"])
    group = result.group("country")
    assert group.key == "eu" and group.available
    assert group.fallback_from == ("country",)
    assert "fewer organisations than the anonymity floor of 10" in group.reason
    assert "7" not in group.reason                      # the small group's size is not disclosed
    pos = result.positions_in("country")
    assert (pos["group_used"] == "eu").all()


def test_non_eu_small_country_falls_back_to_all(catalogue, reference_frame):
    frame = reference_frame.copy()
    frame["country"] = frame["country"].replace({"NO": "DE"})
    frame.loc[frame.index[:3], "country"] = "NO"
    result = analyse(make_profile(catalogue, country="NO"), catalogue=catalogue, benchmark=make_db(frame),
                     groups=["country"])
    assert result.group("country").key == "all"


def test_group_at_floor_is_used_and_below_floor_shows_no_statistics(catalogue, reference_frame):
    frame = reference_frame.copy()
    frame["country"] = "DE"
    frame.loc[frame.index[:10], "country"] = "LU"
    db = make_db(frame)
    at_floor = analyse(make_profile(catalogue, country="LU"), catalogue=catalogue, benchmark=db,
                       groups=["country"])
    assert at_floor.group("country").key == "country" and at_floor.group("country").n == 10
    # a floor of 11 pushes the same group below it
    higher = analyse(make_profile(catalogue, country="LU"), catalogue=catalogue, benchmark=db,
                     groups=["country"], anonymity_floor=11)
    assert higher.group("country").key == "eu"


def test_custom_group_below_floor_falls_back_to_all(catalogue, synthetic_db):
    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db,
                     groups=["tiny=country:NO,field:maritime"])
    group = result.group("tiny")
    assert group.key == "all" and group.fallback_from == ("tiny",)


def test_custom_filter_combination(catalogue, synthetic_db, reference_frame):
    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db,
                     groups=["west=country:DE|FR,label:gold|silver"])
    expected = (reference_frame["country"].isin(["DE", "FR"]) &
                reference_frame["label"].isin(["gold", "silver"])).sum()
    assert result.group("west").n == expected and result.group("west").key == "west"


def test_indicator_with_too_few_answers_shows_no_statistics(catalogue, reference_frame):
    frame = reference_frame.copy()
    frame.loc[frame.index[5:], "media_mentions"] = np.nan     # only 5 answers left
    result = analyse(make_profile(catalogue, media_mentions=10), catalogue=catalogue,
                     benchmark=make_db(frame), groups=["all"])
    row = result.positions_in("all").set_index("indicator").loc["media_mentions"]
    assert row["status"] == "too_few_answers"
    assert np.isnan(row["median"]) and np.isnan(row["percentile"]) and np.isnan(row["p90"])


def test_floor_never_below_five(catalogue, synthetic_db):
    with pytest.raises(ParameterError, match="never below 5"):
        analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db, anonymity_floor=4)
    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db, anonymity_floor=5)
    assert result.anonymity_floor == 5


def test_client_record_never_counted_among_its_peers(catalogue, reference_frame):
    own = reference_frame.index[0]
    frame = reference_frame.copy()
    frame.loc[own, "committed_members"] = 10_000 - 1   # an extreme value only the client has
    db = make_db(frame)
    answers = {i: (None if pd.isna(frame.loc[own, i]) else float(frame.loc[own, i])) for i in catalogue.ids}
    facts = dict(country=frame.loc[own, "country"], field=frame.loc[own, "field"],
                 founding_year=int(frame.loc[own, "founding_year"]))
    answers.pop("org_age")
    profile = make_profile(catalogue, benchmark_id=own, **facts, **answers)
    result = analyse(profile, catalogue=catalogue, benchmark=db, groups=["all"])
    assert result.group("all").n == len(frame) - 1
    row = result.positions_in("all").set_index("indicator").loc["committed_members"]
    assert row["percentile"] == 100.0      # without itself, nobody is equal
    # the setting works without the id in the profile too
    result = analyse(make_profile(catalogue, **facts), catalogue=catalogue, benchmark=db, groups=["all"],
                     exclude_id=own)
    assert result.group("all").n == len(frame) - 1
    # and the same id in both places is fine
    assert analyse(profile, catalogue=catalogue, benchmark=db, groups=["all"], exclude_id=own).group("all").n \
        == len(frame) - 1


@pytest.fixture()
def own_record(reference_frame):
    own = reference_frame.index[3]
    row = reference_frame.loc[own]
    return own, dict(country=row["country"], field=row["field"], founding_year=int(row["founding_year"]))


@pytest.mark.parametrize("bad", ["CO-99999", "co-00003", " ", "CO-00003x"])
def test_exclude_id_not_in_the_database_is_an_error(catalogue, synthetic_db, own_record, bad):
    own, facts = own_record
    if not bad.strip():
        # blank means none given: nothing excluded
        result = analyse(make_profile(catalogue, **facts), catalogue=catalogue, benchmark=synthetic_db,
                         groups=["all"], exclude_id=bad)
        assert result.group("all").n == 300
        return
    with pytest.raises(ParameterError, match=f"--exclude-id '{bad}' is not in the benchmark database") as err:
        analyse(make_profile(catalogue, **facts), catalogue=catalogue, benchmark=synthetic_db, groups=["all"],
                exclude_id=bad)
    if bad == "co-00003":
        assert "case-sensitive: did you mean 'CO-00003'" in str(err.value)


def test_benchmark_id_not_in_the_database_is_an_error(catalogue, synthetic_db):
    with pytest.raises(ParameterError, match="the questionnaire's benchmark_id 'CO-99999' is not in"):
        analyse(make_profile(catalogue, benchmark_id="CO-99999"), catalogue=catalogue, benchmark=synthetic_db)


def test_only_the_clients_own_record_may_be_excluded(catalogue, synthetic_db, reference_frame, own_record):
    own, facts = own_record
    other = next(i for i in reference_frame.index
                 if reference_frame.loc[i, "country"] != facts["country"])
    # another organisation's id: refused, by the facts it does not share with the client
    with pytest.raises(ParameterError, match=f"'{other}' is not this client's record: its country"):
        analyse(make_profile(catalogue, **facts), catalogue=catalogue, benchmark=synthetic_db, exclude_id=other)
    # a questionnaire cannot name another organisation either
    with pytest.raises(ParameterError, match="benchmark_id .* is not this client's record"):
        analyse(make_profile(catalogue, benchmark_id=other, **facts), catalogue=catalogue, benchmark=synthetic_db)
    # --exclude-id that differs from the declared benchmark_id: refused
    with pytest.raises(ParameterError, match="differs from the questionnaire's benchmark_id"):
        analyse(make_profile(catalogue, benchmark_id=own, **facts), catalogue=catalogue,
                benchmark=synthetic_db, exclude_id=other)


def test_bad_custom_group_is_a_clear_error():
    with pytest.raises(ParameterError, match="column:value"):
        parse_custom("x=colour:blue")
    with pytest.raises(ParameterError, match="expected 'name="):
        parse_custom("no-equals-sign")


def test_unknown_group_is_a_clear_error(catalogue, synthetic_db):
    with pytest.raises(ParameterError, match="unknown peer group 'galaxy'"):
        analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db, groups=["galaxy"])


def test_result_carries_no_other_organisation_identity(catalogue, synthetic_db, reference_frame):
    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db)
    text = "".join(f.to_csv() for f in result.to_frames().values())
    assert not any(org in text for org in reference_frame.index[:50])


def test_group_below_floor_after_every_fallback_shows_no_size(catalogue, reference_frame):
    frame = reference_frame.iloc[:8].copy()           # the whole database is below the floor
    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=make_db(frame), groups=["field"])
    group = result.group("field")
    assert not group.available and group.public_n is None
    assert pd.isna(result.peer_group_table().set_index("group").loc["field", "n"])
    assert (result.positions_in("field")["status"].isin(["group_below_floor", "context"])).all()
    assert result.positions_in("field")["median"].isna().all()


# --- the CLI: score, run and batch take --exclude-id, and refuse what is not the client's own ---

@pytest.mark.parametrize("argv, message", [
    (["score", "es-huerta-food", "--exclude-id", "co-00294"], "did you mean 'CO-00294'"),
    (["score", "es-huerta-food", "--exclude-id", "CO-99999"], "'CO-99999' is not in the benchmark database"),
    (["run", "es-huerta-food", "--exclude-id", "CO-99999"], "'CO-99999' is not in the benchmark database"),
    (["run", "es-huerta-food", "--exclude-id", "CO-00294"], "is not this client's record: its country"),
    (["batch", "es-huerta-food", "--exclude-id", "CO-00001"], "is not this client's record"),
    (["batch", "es-huerta-food", "pl-wisla-ict", "--exclude-id", "CO-00001"], "give exactly one client"),
])
def test_cli_refuses_an_exclude_id_that_is_not_the_clients_own(argv, message, capsys, tmp_path):
    from auditlib.cli import main

    assert main([*argv, "--outputs", str(tmp_path)] if argv[0] != "score" else argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())           # nothing was built


def test_cli_run_and_batch_accept_exclude_id():
    from auditlib.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["run", "x", "--exclude-id", "CO-1"]).exclude_id == "CO-1"
    assert parser.parse_args(["batch", "x", "--exclude-id", "CO-1"]).exclude_id == "CO-1"


# --- each built-in group, named exactly, in both languages ------------------------------------

def test_built_in_groups_are_named_and_filtered_exactly(catalogue):
    from auditlib.peers import BUILT_IN, built_in_spec

    client = make_profile(catalogue, country="NL", field="ict", founding_year=2010, benchmark_year=2026)
    field = catalogue.fields["ict"].name
    band_id = catalogue.age_band(16)
    band = next(b for b in catalogue.peers.age_bands if b.id == band_id)
    expected = {
        "all": ({}, "all organisations", "alle organisaties"),
        "field": ({"field": "ict"}, f"organisations in the same field: {field.en}",
                  f"organisaties in hetzelfde veld: {field.nl}"),
        "country": ({"country": "NL"}, "organisations from the same country: NL",
                    "organisaties uit hetzelfde land: NL"),
        "eu": ({"eu": True}, "organisations from EU member states", "organisaties uit EU-lidstaten"),
        "age_band": ({"age_band": band_id}, f"organisations of the same age band: {band.name.en}",
                     f"organisaties uit dezelfde leeftijdsklasse: {band.name.nl}"),
        "gold": ({"label": "gold"}, "Gold-labelled organisations", "organisaties met een Gouden label"),
    }
    assert set(expected) == set(BUILT_IN)
    for key, (filters, en, nl) in expected.items():
        spec = built_in_spec(key, client, catalogue)
        assert (spec.key, spec.filters, spec.name_en, spec.name_nl) == (key, filters, en, nl)
        assert not spec.custom


def test_a_field_the_catalogue_does_not_know_is_named_by_its_id(catalogue):
    from auditlib.peers import built_in_spec

    spec = built_in_spec("field", make_profile(catalogue, field="quantum"), catalogue)
    assert (spec.filters, spec.name_en, spec.name_nl) == (
        {"field": "quantum"}, "organisations in the same field: quantum", "organisaties in hetzelfde veld: quantum")


def test_unknown_built_in_group_is_refused_with_its_code(catalogue):
    from auditlib.errors import ProblemCode
    from auditlib.peers import built_in_spec

    with pytest.raises(ParameterError, match="unknown peer group 'club'") as err:
        built_in_spec("club", make_profile(catalogue), catalogue)
    assert err.value.code is ProblemCode.UNKNOWN_ID


@pytest.mark.parametrize("text, key, filters", [
    ("benelux=country:NL|BE|LU", "benelux", {"country": ["NL", "BE", "LU"]}),
    (" mine = field:ict , country:NL ", "mine", {"field": "ict", "country": "NL"}),
    ("young=founding_year:2015-2024", "young", {"founding_year": (2015, 2024)}),
    ("one=benchmark_year:2025", "one", {"benchmark_year": (2025, 2025)}),
    ("union=eu:yes", "union", {"eu": True}), ("non=eu:no", "non", {"eu": False}), ("t=eu:1", "t", {"eu": True}),
    ("g=label:gold|silver,age_band:young", "g", {"label": ["gold", "silver"], "age_band": "young"}),
])
def test_custom_groups_parse_exactly(text, key, filters):
    spec = parse_custom(text)
    assert (spec.key, spec.filters, spec.custom) == (key, filters, True)
    assert (spec.name_en, spec.name_nl) == (f"custom group: {key}", f"eigen groep: {key}")


@pytest.mark.parametrize("text, fragment", [
    ("mine", "expected 'name=column:value[|value],...'"),
    ("=field:ict", "expected 'name=column:value"),
    ("mine=", "expected 'name=column:value"),
    ("name=field:ict", "'name' is the placeholder"),
    ("mine=colour:red", "must be column:value with column one of country, field, label, age_band, eu"),
    ("mine=field", "must be column:value"),
    ("mine=field:", "has no value; expected field:value[|value]"),
    ("mine=field: | ", "has no value"),
    ("mine=founding_year:old", "founding_year takes a year range like 2000-2010"),
])
def test_bad_custom_groups_say_what_is_expected(text, fragment):
    with pytest.raises(ParameterError) as err:
        parse_custom(text)
    assert fragment in str(err.value) and f"custom peer group '{text}'" in str(err.value)


def test_words_join_like_a_sentence():
    from auditlib.peers import _words

    assert _words(["country"]) == "country"
    assert _words(["country", "field"]) == "country and field"
    assert _words(["country", "field", "founding year"]) == "country, field and founding year"


def test_reference_derives_age_band_and_eu_membership(catalogue, reference_frame):
    from auditlib.peers import Reference

    frame = reference_frame.iloc[:40]
    ref = Reference.build(frame, catalogue, version="v1")
    assert len(ref) == 40 and ref.version == "v1" and ref.indicator_ids == tuple(catalogue.ids)
    age = (frame["benchmark_year"] - frame["founding_year"]).to_numpy()
    assert (ref.meta["age"].to_numpy() == age).all()
    assert list(ref.meta["age_band"]) == [catalogue.age_band(int(a)) for a in age]
    assert list(ref.meta["eu"]) == [c in catalogue.eu_members for c in frame["country"]]
    assert list(ref.ids) == list(frame.index)
    np.testing.assert_array_equal(ref.values, frame[catalogue.ids].to_numpy(dtype=float))
    assert not ref.values.flags.writeable
    for j in range(len(catalogue.ids)):                       # each row order sorts its indicator
        col = ref.values[:, j]
        ordered = col[ref.order[j]]
        finite = ordered[~np.isnan(ordered)]
        assert (np.diff(finite) >= 0).all() and np.isnan(ordered[len(finite):]).all()


def test_masks_follow_every_kind_of_filter(catalogue, reference_frame):
    from auditlib.peers import Reference, _mask

    ref = Reference.build(reference_frame, catalogue)
    meta = ref.meta
    assert _mask(ref, {}).all()
    assert (_mask(ref, {"country": "NL"}) == (meta["country"] == "NL").to_numpy()).all()
    assert (_mask(ref, {"country": ["NL", "FR"]}) == meta["country"].isin(["NL", "FR"]).to_numpy()).all()
    years = _mask(ref, {"founding_year": (2000, 2010)})
    assert (years == meta["founding_year"].between(2000, 2010).to_numpy()).all() and 0 < years.sum() < len(ref)
    both = _mask(ref, {"eu": True, "field": "ict"})
    assert (both == (meta["eu"] & (meta["field"] == "ict")).to_numpy()).all()


def test_a_group_is_named_in_each_language(catalogue, synthetic_db):
    result = analyse(make_profile(catalogue, country="NL"), catalogue=catalogue, benchmark=synthetic_db,
                     groups=["country", "all"])
    group = result.group("all")
    assert group.name("en") == "all organisations" and group.name("nl") == "alle organisaties"
    assert group.name("fr") == "all organisations"                 # any other language reads English


@pytest.mark.parametrize("asked, used", [(None, 10), (5, 5), (12, 12), ("7", 7)])
def test_floor_defaults_to_the_catalogues_and_is_never_below_five(catalogue, asked, used):
    from auditlib.peers import check_floor

    assert catalogue.peers.anonymity_floor == 10
    assert check_floor(asked, catalogue) == used


def test_a_floor_below_five_is_refused_with_its_code(catalogue):
    from auditlib.errors import ProblemCode
    from auditlib.peers import check_floor

    with pytest.raises(ParameterError) as err:
        check_floor(4, catalogue)
    assert str(err.value) == "anonymity floor 4 is too low: it is never below 5"
    assert err.value.code is ProblemCode.OUT_OF_RANGE and err.value.problems[0].place == "anonymity_floor"
