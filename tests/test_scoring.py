"""Positions, percentiles, bands, dimension profile, strengths and weaknesses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import percentileofscore

from auditlib.audit import analyse
from auditlib.scoring import percentiles_of, rank_percentiles, portfolio_percentiles
from auditlib.peers import Reference

from auditlib.testing import make_profile, make_reference_frame


def _answers_from(frame, org, catalogue):
    return {i: (None if pd.isna(frame.loc[org, i]) else float(frame.loc[org, i])) for i in catalogue.ids}


@pytest.mark.parametrize("indicator", ["committed_members", "sme_share", "member_involvement",
                                       "strategy_age", "public_funding_share", "written_strategy"])
def test_percentile_matches_scipy_mean_kind(catalogue, synthetic_db, reference_frame, indicator):
    value = float(np.nanmedian(reference_frame[indicator])) + 0.0
    profile = make_profile(catalogue, **{indicator: value})
    result = analyse(profile, catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    row = result.positions_in("all").set_index("indicator").loc[indicator]
    peers = reference_frame[indicator].dropna().to_numpy()
    direction = catalogue.indicator(indicator).direction
    expected = (percentileofscore(peers, value, kind="mean") if direction == "higher"
                else percentileofscore(-peers, -value, kind="mean"))
    assert row["percentile"] == pytest.approx(expected)
    assert row["n"] == len(peers)
    assert row["n_missing"] == reference_frame[indicator].isna().sum()


def test_direction_flip_mirrors_percentile(catalogue):
    peers = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]])
    pct, n = percentiles_of(np.array([2.0, 2.0]), peers, np.array([1.0, -1.0]))
    assert pct[0] == pytest.approx(37.5)           # one worse, one equal: (1 + 0.5) / 4
    assert pct[1] == pytest.approx(62.5)           # lower is better: two worse, one equal
    assert pct[0] + pct[1] == pytest.approx(100)


def test_ties_count_half(catalogue):
    peers = np.array([[5.0]] * 10)
    pct, _ = percentiles_of(np.array([5.0]), peers, np.array([1.0]))
    assert pct[0] == pytest.approx(50.0)
    pct, _ = percentiles_of(np.array([6.0]), peers, np.array([1.0]))
    assert pct[0] == pytest.approx(100.0)


def test_missing_peer_values_excluded_and_client_missing_has_no_position(catalogue):
    peers = np.array([[1.0], [np.nan], [3.0], [np.nan]])
    pct, n = percentiles_of(np.array([2.0]), peers, np.array([1.0]))
    assert n[0] == 2 and pct[0] == pytest.approx(50.0)
    pct, _ = percentiles_of(np.array([np.nan]), peers, np.array([1.0]))
    assert np.isnan(pct[0])


def test_context_indicators_reported_as_values_only(catalogue, synthetic_db):
    profile = make_profile(catalogue, regional_concentration=70.0)
    row = analyse(profile, catalogue=catalogue, benchmark=synthetic_db, groups=["all"]).positions_in("all")
    ctx = row.set_index("indicator").loc["regional_concentration"]
    assert ctx["value"] == 70.0 and ctx["status"] == "context"
    assert np.isnan(ctx["percentile"]) and np.isnan(ctx["median"]) and pd.isna(ctx["band"])


def test_bands_follow_percentile(catalogue):
    assert catalogue.band(0) == "bottom_quartile"
    assert catalogue.band(24.9) == "bottom_quartile"
    assert catalogue.band(25) == "lower_middle"
    assert catalogue.band(50) == "upper_middle"
    assert catalogue.band(75) == "top_quartile"
    assert catalogue.band(89.9) == "top_quartile"
    assert catalogue.band(90) == "top_10"


def test_quantiles_match_numpy(catalogue, synthetic_db, reference_frame):
    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    row = result.positions_in("all").set_index("indicator").loc["total_budget"]
    col = reference_frame["total_budget"].dropna()
    assert row["median"] == pytest.approx(col.median())
    assert row["p10"] == pytest.approx(col.quantile(0.10))
    assert row["p90"] == pytest.approx(col.quantile(0.90))


def test_dimension_score_is_mean_of_percentiles_and_counts_coverage(catalogue, synthetic_db):
    profile = make_profile(catalogue, service_types=6, service_usage=50.0, sme_service_effect=2)
    result = analyse(profile, catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    pos = result.positions_in("all")
    services = pos[(pos["dimension"] == "services")]
    dim = result.profile_in("all").set_index("dimension").loc["services"]
    assert dim["score"] == pytest.approx(services["percentile"].dropna().mean())
    assert dim["answered"] == 3 and dim["scored"] == len(catalogue.in_dimension("services"))
    assert 0 <= dim["peer_median"] <= 100


def test_strengths_and_weaknesses_sorted_and_exclude_missing(catalogue, synthetic_db, reference_frame):
    answers = _answers_from(reference_frame, reference_frame.index[0], catalogue)
    answers["joint_projects"] = None
    profile = make_profile(catalogue, **answers)
    result = analyse(profile, catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    s, w = result.strengths, result.weaknesses
    assert list(s["percentile"]) == sorted(s["percentile"], reverse=True)
    assert list(w["percentile"]) == sorted(w["percentile"])
    assert (s["percentile"] >= 50).all() and (w["percentile"] < 50).all()
    assert "joint_projects" not in set(s["indicator"]) | set(w["indicator"])
    assert not set(s["indicator"]) & set(w["indicator"])


def test_ties_in_strengths_are_flagged_and_ordered_by_weight(catalogue):
    from auditlib.scoring import strengths_weaknesses
    pos = pd.DataFrame({"indicator": ["sme_share", "committed_members", "joint_projects"],
                        "dimension": ["structure", "structure", "achievements"],
                        "value": [1.0, 1.0, 1.0], "percentile": [80.0, 80.0, 76.0],
                        "band": ["top_quartile"] * 3, "median": [0.0] * 3, "n": [10] * 3})
    strengths, _ = strengths_weaknesses(pos, catalogue)
    assert list(strengths["indicator"])[:2] == ["committed_members", "sme_share"]   # weight 1.0 first
    assert list(strengths["tied"]) == [True, True, False]


def test_strengths_and_weaknesses_have_one_definition_read_on_the_shown_percentile(catalogue):
    from auditlib.scoring import is_strength, is_weakness, strengths_weaknesses
    ids = ["sme_share", "committed_members", "joint_projects", "member_types", "research_members"]
    pct = [74.999, 75 - 1e-12, 24.99, 25.0, float("nan")]
    pos = pd.DataFrame({"indicator": ids, "dimension": ["structure"] * 5, "value": [1.0] * 5, "percentile": pct,
                        "band": [None] * 5, "median": [0.0] * 5, "n": [10] * 5})
    strengths, weaknesses = strengths_weaknesses(pos, catalogue)
    assert list(strengths["indicator"]) == ["committed_members"]       # shown 75: a strength; shown 74: not
    assert list(weaknesses["indicator"]) == ["joint_projects"]         # shown 24: a weakness; shown 25: not
    assert [is_strength(p) for p in pct] == [False, True, False, False, False]
    assert [is_weakness(p) for p in pct] == [False, False, True, False, False]


def test_peer_median_uses_the_indicators_of_the_clients_score(catalogue):
    """An indicator without a percentile for the client (unanswered, below the floor) feeds neither the
    client's dimension score nor the peers' median."""
    from auditlib.peers import PeerGroup
    from auditlib.scoring import dimension_profile, group_stats, positions_for_group
    frame = make_reference_frame(catalogue, n=60, seed=5)
    ref = Reference.build(frame, catalogue)
    dims = {d.id for d in catalogue.dimensions}
    values = np.nanmedian(ref.values, axis=0)
    k = catalogue.ids.index("sme_share")
    values[k] = np.nan                                    # the client leaves one structure indicator open
    g = PeerGroup(requested="all", key="all", name_en="all", name_nl="alle", filters={}, n=60, available=True,
                  mask=np.ones(60, dtype=bool))
    pos = positions_for_group(values, g, ref, catalogue, floor=10)
    prof = dimension_profile(pos, g, ref, catalogue).set_index("dimension")
    stats = group_stats(ref, g, catalogue)
    used = ~np.isnan(pos["percentile"].to_numpy(dtype=float))
    assert not used[k]
    expected = stats.peer_median_over(used, catalogue)
    assert prof.loc["structure", "peer_median"] == expected["structure"]
    all_used = stats.peer_dimension_median["structure"]
    assert prof.loc["structure", "peer_median"] != all_used          # the open indicator is left out
    assert set(prof.index) == dims


def test_rank_percentiles_equal_leave_one_out(catalogue):
    """The vectorised portfolio percentile equals the per-organisation computation without itself."""
    frame = make_reference_frame(catalogue, n=60, seed=3)
    ref = Reference.build(frame, catalogue)
    signs = np.array([{"higher": 1.0, "lower": -1.0}.get(i.direction, 0.0) for i in catalogue.indicators])
    fast = rank_percentiles(ref.values, signs)
    for i in (0, 17, 59):
        others = np.delete(ref.values, i, axis=0)
        slow, _ = percentiles_of(ref.values[i], others, signs)
        np.testing.assert_allclose(fast[i], slow, equal_nan=True)


def test_portfolio_percentiles_by_group(catalogue):
    frame = make_reference_frame(catalogue, n=80, seed=5)
    ref = Reference.build(frame, catalogue)
    out = portfolio_percentiles(ref, catalogue)                  # by field unless told otherwise
    assert list(out.columns) == ["field", "label", *(d.id for d in catalogue.dimensions)]
    assert list(out["field"]) == list(frame["field"]) and list(out["label"]) == list(frame["label"])
    signs = np.array([{"higher": 1.0, "lower": -1.0}.get(i.direction, 0.0) for i in catalogue.indicators])
    ict = np.flatnonzero(ref.meta["field"].to_numpy() == "ict")
    i = ict[3]
    others = ref.values[np.setdiff1d(ict, [i])]
    slow, _ = percentiles_of(ref.values[i], others, signs)
    dims = np.array([ind.dimension for ind in catalogue.indicators])
    expected = np.nanmean(slow[dims == "services"])
    assert out.loc[i, "services"] == pytest.approx(expected)


def test_sorted_group_statistics_match_the_rank_computation(catalogue):
    """The argsort path (reports) and the pandas-rank path (portfolio) agree, ties included."""
    from auditlib.scoring import _leave_one_out_percentiles, _signs, dimension_scores, group_stats
    from auditlib.peers import PeerGroup

    frame = make_reference_frame(catalogue, n=120, seed=11)
    frame.loc[frame.index[:40], "service_types"] = 5.0          # a heavy tie
    ref = Reference.build(frame, catalogue)
    signs = _signs(catalogue)
    fast, srt, n = _leave_one_out_percentiles(np.ascontiguousarray(ref.values.T), signs)
    np.testing.assert_allclose(fast.T, rank_percentiles(ref.values, signs), equal_nan=True)
    mask = np.ones(len(ref), dtype=bool)
    group = PeerGroup("all", "all", "all", "alle", {}, len(ref), True, mask=mask)
    stats = group_stats(ref, group, catalogue)
    expected = dimension_scores(rank_percentiles(ref.values, signs), catalogue).median()
    pd.testing.assert_series_equal(stats.peer_dimension_median, expected, check_names=False)
    np.testing.assert_allclose(stats.quantiles(), np.nanquantile(ref.values, [.1, .25, .5, .75, .9], axis=0).T,
                               equal_nan=True)
    assert group_stats(ref, group, catalogue) is stats       # computed once per membership


def test_group_order_from_the_database_sort_equals_sorting_the_group(catalogue):
    """Filtering the database's stable sort gives exactly the group's own stable sort."""
    from auditlib.peers import PeerGroup
    from auditlib.scoring import group_stats

    frame = make_reference_frame(catalogue, n=200, seed=13)
    frame.loc[frame.index[::3], "events_per_year"] = 7.0            # ties across the group boundary
    ref = Reference.build(frame, catalogue)
    mask = ref.meta["field"].to_numpy() == "ict"
    group = PeerGroup("field", "field", "f", "f", {}, int(mask.sum()), True, mask=mask)
    fast = group_stats(ref, group, catalogue)
    plain = Reference.build(frame[mask], catalogue)
    object.__setattr__(plain, "order", None)                        # force the per-group argsort
    full = np.ones(int(mask.sum()), dtype=bool)
    slow = group_stats(plain, PeerGroup("all", "all", "a", "a", {}, len(full), True, mask=full), catalogue)
    np.testing.assert_array_equal(fast.sorted, slow.sorted)
    pd.testing.assert_series_equal(fast.peer_dimension_median, slow.peer_dimension_median)


def _group(n, available=True, mask=None, requested="field", key="all"):
    from auditlib.peers import PeerGroup
    return PeerGroup(requested=requested, key=key, name_en=key, name_nl=key, filters={}, n=n,
                     available=available, mask=np.ones(n, dtype=bool) if mask is None else mask)


def _thin_frame(catalogue):
    """30 peers; member_types answered by exactly 10, research_members by 9, funding_sources by none."""
    frame = make_reference_frame(catalogue, n=30, seed=7)
    frame["member_types"] = [float(i % 7) if i < 10 else np.nan for i in range(30)]
    frame["research_members"] = [float(i) if i < 9 else np.nan for i in range(30)]
    frame["funding_sources"] = np.nan
    frame["strategy_age"] = [2.0] + [np.nan] * 29                     # one answer: no "others" to rank among
    frame.loc[frame.index[4], [i.id for i in catalogue.in_dimension("services")]] = np.nan   # a peer silent on services
    return frame


def test_positions_status_counts_and_the_floor_boundary(catalogue):
    """At the floor (10 answers) an indicator is ranked; one below (9) or none: no position, no n, no
    quantiles (a below-floor n is itself a statistic). Each row says why; no RuntimeWarning escapes."""
    import warnings
    from auditlib.present import band_id
    from auditlib.scoring import dimension_profile, group_stats, positions_for_group
    ref = Reference.build(_thin_frame(catalogue), catalogue)
    values = np.nanmedian(np.nan_to_num(ref.values, nan=1.0), axis=0)
    ids = list(catalogue.ids)
    values[ids.index("sme_share")] = np.nan
    values[ids.index("funding_sources")] = 3.0                       # answered, but by no peer
    values[ids.index("member_types")] = 3.0
    group = _group(30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pos = positions_for_group(values, group, ref, catalogue, floor=10)
        prof = dimension_profile(pos, group, ref, catalogue).set_index("dimension")
        every = rank_percentiles(ref.values, np.array([{"higher": 1.0, "lower": -1.0}.get(i.direction, 0.0)
                                                       for i in catalogue.indicators]))
    rows = pos.set_index("indicator")
    assert rows.loc["strategy_age", "status"] == "too_few_answers"
    for col in ("n", "n_missing", "percentile", "p10", "p25", "median", "p75", "p90"):
        assert pos[col].dtype == np.float64, col
    assert rows.loc["member_types", "status"] == "ok"
    assert rows.loc["research_members", "status"] == "too_few_answers"
    assert rows.loc["funding_sources", "status"] == "too_few_answers"
    assert rows.loc["sme_share", "status"] == "not_answered"
    assert rows.loc["org_age", "status"] == "context"
    assert (pos["group"] == "field").all() and (pos["group_used"] == "all").all()
    mt = rows.loc["member_types"]
    peers = np.array([float(i % 7) for i in range(10)])
    assert mt["n"] == 10 and mt["n_missing"] == 20
    assert mt["percentile"] == pytest.approx(percentileofscore(peers, 3.0, kind="mean"))
    assert mt["p25"] == pytest.approx(np.quantile(peers, 0.25)) and mt["median"] == pytest.approx(np.median(peers))
    for iid in ("research_members", "funding_sources", "org_age", "regional_concentration"):
        assert rows.loc[iid, ["n", "n_missing", "percentile", "p10", "median", "p90"]].isna().all(), iid
    bands = [b if isinstance(b, str) else None for b in pos["band"]]
    assert bands == [band_id(p, catalogue) for p in pos["percentile"]]
    assert rows["band"].notna().sum() == rows["percentile"].notna().sum() > 20
    structure = prof.loc["structure"]                                # 6 indicators, 2 of them context
    assert structure["scored"] == 4 and structure["answered"] == 3 and structure["coverage"] == 0.75
    assert (prof["group_used"] == "all").all()
    assert prof.loc["financing", "coverage"] == pytest.approx(prof.loc["financing", "answered"] / 6)
    # the peers' median over the client's ranked indicators, from the independent rank computation
    # (each peer among the 29 others); the peer silent on services is skipped, not a NaN median
    assert group_stats(ref, group, catalogue).peer_dimension_median.notna().all()
    used = pos["percentile"].notna().to_numpy()
    dims = np.array([i.dimension for i in catalogue.indicators])
    for d in prof.index:
        expected = pd.DataFrame(every[:, (dims == d) & used]).mean(axis=1).median()
        assert prof.loc[d, "peer_median"] == pytest.approx(expected), d


def test_a_group_without_statistics_shows_values_only(catalogue):
    """A group below the floor (even one whose members are known) gives no position, n, quantile or
    peer median anywhere; the columns stay numeric."""
    import warnings
    from auditlib.scoring import dimension_profile, positions_for_group
    ref = Reference.build(make_reference_frame(catalogue, n=30, seed=7), catalogue)
    values = np.nanmedian(ref.values, axis=0)
    for mask in (None, np.ones(30, dtype=bool)):
        group = _group(30, available=False, mask=mask)
        if mask is None:
            object.__setattr__(group, "mask", None)
        with warnings.catch_warnings():
            warnings.simplefilter("error")                         # no "mean of empty slice" in a report
            pos = positions_for_group(values, group, ref, catalogue, floor=5)
            prof = dimension_profile(pos, group, ref, catalogue)
        scored = pos["direction"] != "context"
        assert (pos.loc[scored, "status"] == "group_below_floor").all()
        assert (pos.loc[~scored, "status"] == "context").all()
        for col in ("n", "n_missing", "percentile", "p10", "p25", "median", "p75", "p90"):
            assert pos[col].dtype == np.float64 and pos[col].isna().all(), col
        assert pos["band"].isna().all()
        assert prof["score"].isna().all() and prof["peer_median"].isna().all()
        assert (prof["coverage"] == 1.0).all()


def test_percentiles_of_with_no_peer_and_with_one_peer():
    one = np.array([[2.0, np.nan]])
    pct, n = percentiles_of(np.array([2.0, 2.0]), one, np.array([1.0, 1.0]))
    assert list(n) == [1, 0] and pct[0] == 50.0 and np.isnan(pct[1])     # no peer answered: no position
    pct, _ = percentiles_of(np.array([3.0]), np.array([[2.0]]), np.array([-1.0]))
    assert pct[0] == 0.0


def test_leave_one_out_with_ties_at_the_top_and_tiny_rows():
    """The runs of equal values end at the row's end too (a tie at the maximum, no missing value)."""
    from auditlib.scoring import _leave_one_out_percentiles
    matrix = np.array([[1.0, 3.0, 2.0, 3.0], [3.0, 3.0, 3.0, 1.0], [5.0, np.nan, np.nan, np.nan],
                       [4.0, 4.0, np.nan, np.nan]])
    for signs in (np.ones(4), -np.ones(4)):
        pct, srt, n = _leave_one_out_percentiles(matrix, signs)
        assert list(n) == [4, 4, 1, 2]
        for r in range(4):
            for c in range(4):
                others = np.delete(matrix[r], c)[:, None]
                expected, _ = percentiles_of(matrix[r, c:c + 1], others, signs[:1])
                np.testing.assert_allclose(pct[r, c], expected[0], equal_nan=True, err_msg=f"{r},{c}")


def test_client_percentiles_and_quantiles_on_small_rows(catalogue):
    """Rows of 0, 1, 2 and 3 answers: the binary search agrees with the direct count, the floor keeps
    a row of exactly `floor` answers, and one answer is every quantile."""
    from auditlib.scoring import GroupStats, client_percentiles
    srt = np.array([[np.nan] * 3, [4.0, np.nan, np.nan], [1.0, 4.0, np.nan], [1.0, 4.0, 4.0]])
    stats = GroupStats(srt, np.array([0, 1, 2, 3]), pd.Series(dtype=float))
    values = np.array([4.0, 4.0, 4.0, 4.0])
    for signs in (np.ones(4), -np.ones(4)):
        got = client_percentiles(values, stats, signs, floor=1)
        direct, _ = percentiles_of(values, srt.T, signs)
        np.testing.assert_allclose(got, direct, equal_nan=True)
        assert np.isnan(got[0]) and not np.isnan(got[1:]).any()
    at_floor = client_percentiles(values, stats, np.ones(4), floor=3)
    assert np.isnan(at_floor[:3]).all() and at_floor[3] == pytest.approx(100 * 2 / 3)
    q = stats.quantiles()
    assert np.isnan(q[0]).all() and (q[1] == 4.0).all()
    np.testing.assert_allclose(q[2], np.quantile([1.0, 4.0], [.1, .25, .5, .75, .9]))


def test_group_statistics_per_membership_and_a_group_without_members(catalogue):
    from auditlib.scoring import group_stats
    ref = Reference.build(make_reference_frame(catalogue, n=40, seed=2), catalogue)
    half = np.arange(40) < 20
    first = group_stats(ref, _group(40, mask=half), catalogue)
    second = group_stats(ref, _group(40, mask=~half), catalogue)
    assert first is not second and not np.array_equal(first.sorted, second.sorted, equal_nan=True)
    assert (second.n <= 20).all()
    empty = _group(40)
    object.__setattr__(empty, "mask", None)
    with pytest.raises(ValueError, match="group 'all' has no members"):
        group_stats(ref, empty, catalogue)


def test_strengths_ties_by_weight_then_catalogue_order_and_the_limit(catalogue):
    """Ties: the heavier indicator first (even when later in the catalogue), then catalogue order
    (whatever the order of the rows); `n` keeps the first n."""
    from auditlib.scoring import strengths_weaknesses
    ids = ["sme_share", "member_types", "management_fte", "strategy_age", "written_strategy"]
    pct = [90.0, 90.0, 90.0, 10.0, 10.0]
    pos = pd.DataFrame({"indicator": ids, "dimension": ["x"] * 5, "value": [1.0] * 5, "percentile": pct,
                        "band": [None] * 5, "median": [0.0] * 5, "n": [10] * 5})
    strengths, weaknesses = strengths_weaknesses(pos, catalogue)
    assert list(strengths["indicator"]) == ["management_fte", "member_types", "sme_share"]  # 1.0, 0.8, 0.8
    assert list(weaknesses["indicator"]) == ["written_strategy", "strategy_age"]             # 1.0, 0.8
    assert list(strengths.index) == [0, 1, 2]
    top, bottom = strengths_weaknesses(pos, catalogue, n=2)
    assert list(top["indicator"]) == ["management_fte", "member_types"]
    assert list(bottom["indicator"]) == ["written_strategy", "strategy_age"] and len(bottom) == 2
    assert list(strengths_weaknesses(pos, catalogue, n=1)[1]["indicator"]) == ["written_strategy"]
