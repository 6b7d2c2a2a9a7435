"""Peer groups: built-in and custom groups, the anonymity floor and its fallback, exclusion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditlib.audit import analyse
from auditlib.errors import ParameterError
from auditlib.peers import parse_custom

from conftest import make_db, make_profile


def test_every_built_in_group_reports_its_size(catalogue, synthetic_db, reference_frame):
    result = analyse(make_profile(catalogue, country="DE", field="food"), catalogue=catalogue,
                     benchmark=synthetic_db)
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
    profile = make_profile(catalogue, benchmark_id=own, **answers)
    result = analyse(profile, catalogue=catalogue, benchmark=db, groups=["all"])
    assert result.group("all").n == len(frame) - 1
    row = result.positions_in("all").set_index("indicator").loc["committed_members"]
    assert row["percentile"] == 100.0      # without itself, nobody is equal
    # the setting works without the id in the profile too
    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=db, groups=["all"], exclude_id=own)
    assert result.group("all").n == len(frame) - 1


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
