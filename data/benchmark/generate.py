"""Generate the SYNTHETIC reference benchmark database (fictional organisations).

The real benchmark database is confidential, so the workbench ships this seeded stand-in
that looks like it in shape. Every modelling assumption is a named constant below and is
documented in README.md next to this file. The script reads the catalogue
(`../catalogue/indicators.yaml`, `fields.yaml`, `labels.yaml`) so the data follows the
catalogue: indicators it has no specific model for get a generic one by kind.

    .venv/bin/python data/benchmark/generate.py            # writes benchmark.csv + .meta.yaml
    .venv/bin/python data/benchmark/generate.py --n 100000 --out /tmp/big.csv

Same seed and n, same catalogue: byte-identical output.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import yaml

GENERATOR = "data/benchmark/generate.py"
GENERATOR_VERSION = "1.0"
DEFAULT_N = 1300
DEFAULT_SEED = 20261126
HERE = Path(__file__).resolve().parent
CATALOGUE_DIR = HERE.parent / "catalogue"
META_COLUMNS = ["org_id", "country", "field", "founding_year", "benchmark_year", "label"]
FLOAT_FORMAT = "%.10g"

# Expected organisations per 1,300 (apportioned exactly, then shuffled). 49 countries:
# EU, non-EU Europe, and a few partner countries outside Europe.
COUNTRY_WEIGHTS: dict[str, float] = {
    "DE": 160, "FR": 128, "ES": 118, "IT": 88, "PL": 66, "SE": 46, "AT": 45, "DK": 42,
    "BE": 40, "GB": 40, "NO": 38, "CZ": 34, "PT": 34, "NL": 32, "FI": 30, "RO": 28,
    "HU": 26, "CH": 24, "TR": 22, "GR": 20, "BG": 16, "SK": 14, "SI": 14, "HR": 14,
    "IE": 12, "LT": 12, "UA": 12, "EE": 10, "RS": 10, "LV": 9, "KR": 8, "BR": 7,
    "LU": 6, "CA": 6, "TN": 6, "IL": 5, "JP": 5, "CY": 4, "IS": 4, "ZA": 4, "AU": 4,
    "MA": 4, "MT": 3, "MK": 3, "BA": 3, "MD": 3, "GE": 3, "AL": 2, "ME": 2,
}
# Budget per FTE relative to the default (staff cost level); public share +10 points where
# the cost level is low (more programme-funded clusters).
LOW_COST = {"PL", "CZ", "RO", "HU", "BG", "SK", "HR", "LT", "LV", "EE", "GR", "PT", "TR", "UA",
            "RS", "MK", "BA", "MD", "GE", "AL", "ME", "TN", "MA", "BR", "ZA"}
HIGH_COST = {"CH", "NO", "DK", "LU", "SE", "IS", "IE"}
COST_LEVEL = {"low": 0.65, "default": 1.0, "high": 1.2}

# Field mix (shares, normalised); unknown catalogue fields get FIELD_DEFAULT_WEIGHT.
FIELD_WEIGHTS: dict[str, float] = {
    "production_engineering": 16, "energy_environment": 14, "ict": 13, "health_medical": 10,
    "food": 9, "materials_chemistry": 7, "transport_logistics": 6, "biotechnology": 6,
    "creative_industries": 5, "construction": 4, "micro_nano_optics": 4, "aviation_space": 3,
    "sports_leisure_tourism": 2, "maritime": 2,
}
FIELD_DEFAULT_WEIGHT = 4.0
# Percentage points added to the SME share by field.
SME_FIELD_EFFECT = {"creative_industries": 12, "ict": 8, "food": 4, "sports_leisure_tourism": 8,
                    "aviation_space": -15, "materials_chemistry": -8, "maritime": -5,
                    "transport_logistics": -4, "health_medical": -3}
RESEARCH_FIELDS = {"biotechnology", "health_medical", "micro_nano_optics", "materials_chemistry",
                   "aviation_space"}
TRANSITION_FIELDS = {"energy_environment", "ict", "construction"}

FOUNDING_MEAN, FOUNDING_SD, FOUNDING_MIN, FOUNDING_MAX = 2008.0, 7.0, 1990, 2025
BENCHMARK_MIN, BENCHMARK_MAX = 2015, 2026
BENCHMARK_RECENCY = 0.6          # u ** 0.6: later benchmark years are more common
AGE_LOG_MEAN, AGE_LOG_SD = 2.3, 0.6   # standardising log(1 + age)
AGE_Z_LIMIT = 2.5                # a start-up counts as about 2 years old, not -4 SD
QUALITY_AGE_LOADING = 0.3        # older organisations have learned a little more

LABEL_SHARES = {"gold": 0.075, "silver": 0.10, "bronze": 0.55}  # the rest: none
LABEL_NOISE_SD = 0.35
LABEL_AGE_LOADING = 0.2
YOUNG_PENALTY = 0.5              # under 2 years old: no second benchmark yet, rarely silver/gold
GOLD_COMPLIANT_SHARE = 0.9       # gold holders whose current answers pass every gold threshold

MISSING_DEFAULT = 0.04
MISSING_BASE = {
    "org_age": 0.0, "total_budget": 0.12, "media_mentions": 0.12, "member_satisfaction": 0.10,
    "public_funding_share": 0.07, "private_funding_share": 0.07, "fee_paying_share": 0.07,
    "member_cooperations": 0.08, "regional_concentration": 0.06, "sme_service_effect": 0.06,
    "staff_experience": 0.05, "international_activities": 0.05, "awards_recognition": 0.05,
}
MISSING_LABEL_FACTOR = {"none": 1.5, "bronze": 1.0, "silver": 0.7, "gold": 0.4}
RETICENCE_SD = 0.6               # per-organisation log-normal multiplier of the missing rate

DECIMALS = {"share": 1, "amount": 1}
DECIMALS_BY_ID = {"management_fte": 2}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _apportion(weights: np.ndarray, n: int) -> np.ndarray:
    """Exact counts summing to n (largest remainder), so country sizes are stable."""
    raw = weights / weights.sum() * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def read_catalogue(catalogue_dir: Path | str | None = None) -> dict:
    """The parts of the catalogue the generator needs, read straight from the YAML files."""
    directory = Path(catalogue_dir) if catalogue_dir else CATALOGUE_DIR
    ind = yaml.safe_load((directory / "indicators.yaml").read_text(encoding="utf-8"))
    fields = yaml.safe_load((directory / "fields.yaml").read_text(encoding="utf-8"))
    labels_path = directory / "labels.yaml"
    labels = yaml.safe_load(labels_path.read_text(encoding="utf-8")) if labels_path.is_file() else {}
    return {
        "name": ind.get("catalogue", ""),
        "version": str(ind["version"]),
        "indicators": [{k: i[k] for k in ("id", "kind", "min", "max", "direction")}
                       for i in ind["indicators"]],
        "fields": [f["id"] for f in fields["fields"]],
        "labels": labels or {},
    }


def _context(rng: np.random.Generator, n: int, fields: list[str]) -> SimpleNamespace:
    """Meta columns and the latent factors every indicator model draws on."""
    codes = np.array(list(COUNTRY_WEIGHTS))
    country = rng.permutation(np.repeat(codes, _apportion(np.array(list(COUNTRY_WEIGHTS.values()), float), n)))
    fw = np.array([FIELD_WEIGHTS.get(f, FIELD_DEFAULT_WEIGHT) for f in fields], float)
    field = np.array(fields)[rng.choice(len(fields), size=n, p=fw / fw.sum())]
    founding = np.clip(np.round(rng.normal(FOUNDING_MEAN, FOUNDING_SD, n)), FOUNDING_MIN, FOUNDING_MAX).astype(int)
    lo = np.maximum(BENCHMARK_MIN, founding)
    u = rng.random(n) ** BENCHMARK_RECENCY
    benchmark = (lo + np.floor(u * (BENCHMARK_MAX + 1 - lo))).astype(int)
    age = benchmark - founding
    age_z = np.clip((np.log1p(age) - AGE_LOG_MEAN) / AGE_LOG_SD, -AGE_Z_LIMIT, AGE_Z_LIMIT)
    q = QUALITY_AGE_LOADING * age_z + np.sqrt(1 - QUALITY_AGE_LOADING**2) * rng.standard_normal(n)
    s = rng.standard_normal(n)
    cost = np.where(np.isin(country, list(LOW_COST)), COST_LEVEL["low"],
                    np.where(np.isin(country, list(HIGH_COST)), COST_LEVEL["high"], COST_LEVEL["default"]))
    return SimpleNamespace(rng=rng, n=n, country=country, field=field, founding=founding,
                           benchmark=benchmark, age=age, age_z=age_z, q=q, s=s, cost=cost)


def _labels(c: SimpleNamespace) -> np.ndarray:
    """Labels by rank of a noisy quality score: exact shares of gold, silver, bronze."""
    score = c.q + LABEL_AGE_LOADING * c.age_z + c.rng.normal(0, LABEL_NOISE_SD, c.n)
    score = score - YOUNG_PENALTY * (c.age < 2)
    names = list(LABEL_SHARES) + ["none"]
    shares = np.array(list(LABEL_SHARES.values()) + [1 - sum(LABEL_SHARES.values())])
    label_of_rank = np.repeat(np.array(names), _apportion(shares, c.n))
    labels = np.empty(c.n, dtype=object)
    labels[np.argsort(-score, kind="stable")] = label_of_rank
    return labels.astype(str)


def _known(c: SimpleNamespace) -> dict[str, np.ndarray]:
    """The specific model of each indicator of the shipped catalogue (raw, before rounding)."""
    rng, n, q, s = c.rng, c.n, c.q, c.s
    z = lambda: rng.standard_normal(n)  # noqa: E731
    pois = lambda mean: rng.poisson(mean).astype(float)  # noqa: E731
    yes = lambda logit: (rng.random(n) < _sigmoid(logit)).astype(float)  # noqa: E731
    sme_fx = np.array([SME_FIELD_EFFECT.get(f, 0) for f in c.field], float)
    research_fx = np.isin(c.field, list(RESEARCH_FIELDS)) * 0.08
    transition_fx = np.isin(c.field, list(TRANSITION_FIELDS)) * 0.3
    v: dict[str, np.ndarray] = {"org_age": c.age.astype(float)}
    m = np.round(np.exp(np.log(40) + 0.45 * c.age_z + 0.35 * q + 0.55 * s + 0.45 * z()))
    rel_m = np.log(np.maximum(m, 1) / 40)
    v["committed_members"] = m
    v["member_types"] = np.clip(np.round(3.2 + 0.8 * q + 0.5 * rel_m + 0.9 * z()), 1, 9)
    v["sme_share"] = np.clip(62 + sme_fx + 5 * q + 14 * z(), 5, 98)
    research = np.clip(0.12 + research_fx + 0.03 * q + 0.06 * z(), 0.01, 0.6)
    v["research_members"] = np.minimum(np.round(m * research), m)
    v["regional_concentration"] = rng.beta(5, 2.5, n) * 100
    fte = np.clip(np.exp(np.log(2.2) + 0.45 * q + 0.35 * s + 0.2 * c.age_z + 0.4 * z()), 0.1, None)
    v["management_fte"] = fte
    v["staff_experience"] = np.clip(np.exp(np.log(5) + 0.3 * q + 0.25 * c.age_z + 0.4 * z()), 0.5, 40)
    v["board_industry_share"] = 52 + 7 * q + 15 * z()
    v["member_involvement"] = np.round(2.0 + 0.8 * q + 0.7 * z())
    v["written_strategy"] = yes(1.8 + 1.5 * q)
    v["strategy_age"] = np.minimum(pois(np.exp(0.9 - 0.45 * q)), c.age)
    v["total_budget"] = fte * 105 * c.cost * np.exp(0.08 * q + 0.3 * z())
    public = np.clip(np.round(52 - 9 * q + 10 * (c.cost < 1) - 4 * c.age_z + 18 * z(), 1), 0, 100)
    private = np.floor((100 - public) * np.clip(0.75 + 0.05 * q + 0.15 * z(), 0, 1) * 10) / 10
    v["public_funding_share"], v["private_funding_share"] = public, private
    v["funding_sources"] = 1 + pois(np.exp(np.log(3) + 0.25 * q + 0.15 * np.log(fte)))
    v["secured_funding_years"] = np.round(1.6 + 0.7 * q + 0.9 * z())
    v["fee_paying_share"] = 20 + 0.6 * private + 6 * q + 15 * z()
    v["service_types"] = np.round(6 + 1.5 * q + 0.4 * np.log(fte / 2.2) + 1.2 * z())
    v["service_usage"] = 50 + 11 * q + 15 * z()
    v["sme_service_effect"] = np.round(1.7 + 0.8 * q + 0.8 * z())
    v["international_activities"] = np.round(np.exp(np.log(5) + 0.45 * q + 0.3 * s + 0.5 * z()))
    v["transition_services"] = pois(np.exp(np.log(2.5) + 0.35 * q + 0.6 * (c.benchmark >= 2019) + transition_fx))
    v["service_feedback"] = yes(0.8 + 1.4 * q)
    v["events_per_year"] = np.round(np.exp(np.log(14) + 0.4 * q + 0.35 * s + 0.4 * z()))
    v["working_groups"] = pois(np.exp(np.log(3.5) + 0.4 * q + 0.3 * s))
    v["active_member_share"] = 42 + 11 * q - 4 * rel_m + 14 * z()
    v["satisfaction_survey"] = yes(0.7 + 1.5 * q)
    v["member_satisfaction"] = np.clip(74 + 6 * q + 10 * z(), 10, 100)
    v["member_cooperations"] = np.round(np.exp(np.log(12) + 0.45 * q + 0.4 * rel_m + 0.5 * z()))
    v["joint_projects"] = np.round(np.exp(np.log(6) + 0.5 * q + 0.3 * rel_m + 0.5 * z()))
    v["media_mentions"] = np.round(np.exp(np.log(14) + 0.45 * q + 0.3 * s + 0.8 * z()))
    v["success_stories"] = pois(np.exp(np.log(3) + 0.5 * q))
    v["english_website"] = yes(2.2 + 1.5 * q)
    v["eccp_profile"] = yes(0.2 + 1.2 * q)
    v["awards_recognition"] = pois(np.exp(0.6 * q + 0.3 * c.age_z))
    return v


def _generic(c: SimpleNamespace, ind: dict) -> np.ndarray:
    """A plausible column for an indicator without a specific model, by kind and direction."""
    sign = {"higher": 1.0, "lower": -1.0}.get(ind["direction"], 0.0)
    lo, hi = float(ind["min"]), float(ind["max"])
    z = c.rng.standard_normal(c.n)
    if ind["kind"] == "yes_no":
        return (c.rng.random(c.n) < _sigmoid(0.5 + 1.2 * sign * c.q)).astype(float)
    if ind["kind"] == "ordinal":
        return np.round((lo + hi) / 2 + (hi - lo) / 5 * (sign * c.q + 0.8 * z))
    if ind["kind"] == "share":
        return lo + (hi - lo) * (0.5 + 0.12 * sign * c.q + 0.15 * z)
    scale = max(1.0, (hi - lo) * 0.02)
    return lo + scale * np.exp(0.5 * sign * c.q + 0.5 * z)


def _decimals(ind: dict) -> int:
    return DECIMALS_BY_ID.get(ind["id"], DECIMALS.get(ind["kind"], 0))


def _lift(c: SimpleNamespace, values: dict[str, np.ndarray], inds: dict[str, dict],
          rows: np.ndarray, criterion: dict) -> None:
    """Move failing values of `rows` to the passing side of one label criterion."""
    col = criterion["indicator"]
    if col not in values or not rows.any():
        return
    ind, x = inds[col], values[col]
    thr = float(criterion["threshold"])
    target = thr if criterion.get("target") is None else float(criterion["target"])
    unit = 10.0 ** -_decimals(ind)
    u = c.rng.random(c.n)
    if criterion["op"] == ">=":
        reach = thr + u * 0.5 * max(target - thr, thr * 0.5)
        new = np.ceil(np.clip(reach, ind["min"], ind["max"]) / unit) * unit
        fail = rows & ~(x >= thr)
    else:
        reach = thr - u * 0.5 * max(thr - target, 0.0)
        new = np.floor(np.clip(reach, ind["min"], ind["max"]) / unit) * unit
        fail = rows & ~(x <= thr)
    x[fail] = new[fail]


def _consistent(values: dict[str, np.ndarray]) -> None:
    """Cross-indicator rules a real record obeys (keeps label criteria passing)."""
    if {"research_members", "committed_members"} <= values.keys():
        values["research_members"] = np.minimum(values["research_members"], values["committed_members"])
    if {"public_funding_share", "private_funding_share"} <= values.keys():
        values["public_funding_share"] = np.minimum(values["public_funding_share"],
                                                    np.round(100 - values["private_funding_share"], 1))


def generate(n: int = DEFAULT_N, seed: int = DEFAULT_SEED, catalogue_dir: Path | str | None = None) -> pd.DataFrame:
    """The synthetic database as a DataFrame (indicators float64, NaN = not answered)."""
    cat = read_catalogue(catalogue_dir)
    rng = np.random.default_rng(seed)
    c = _context(rng, n, cat["fields"])
    labels = _labels(c)
    inds = {i["id"]: i for i in cat["indicators"]}
    known = _known(c)
    # a renamed indicator (catalogue old_ids) keeps the model of its former id
    model = {i: next((k for k in (i, *inds[i].get("old_ids", [])) if k in known), None) for i in inds}
    values = {i: (known[model[i]] if model[i] else _generic(c, inds[i])).astype(float) for i in inds}
    for i, ind in inds.items():
        values[i] = np.clip(np.round(values[i], _decimals(ind)), ind["min"], ind["max"])

    # Labels: bronze+ meet the bronze minimums, silver+ the gold minimums, and most gold
    # holders pass every gold quality threshold (the others hold a label from an earlier audit).
    rules = cat["labels"]
    labelled = labels != "none"
    silver_up = np.isin(labels, ["silver", "gold"])
    compliant = (labels == "gold") & (rng.random(n) < GOLD_COMPLIANT_SHARE)
    protect = {i: np.zeros(n, bool) for i in inds}
    for rows, criteria in ((labelled, rules.get("bronze", {}).get("minimums", [])),
                           (silver_up, rules.get("gold", {}).get("minimums", [])),
                           (compliant, rules.get("gold", {}).get("quality", []))):
        for crit in criteria:
            _lift(c, values, inds, rows, crit)
            if crit["indicator"] in protect:
                protect[crit["indicator"]] |= rows
    _consistent(values)

    # Missing answers: a base rate per indicator x label factor x the organisation's reticence.
    factor = pd.Series(labels).map(MISSING_LABEL_FACTOR).to_numpy(float) * np.exp(rng.normal(-RETICENCE_SD**2 / 2, RETICENCE_SD, n))
    draws = rng.random((n, len(inds)))
    for k, i in enumerate(inds):
        p = MISSING_BASE.get(i, MISSING_DEFAULT) * factor
        values[i][(draws[:, k] < p) & ~protect[i]] = np.nan
    if {"satisfaction_survey", "member_satisfaction"} <= values.keys():
        values["member_satisfaction"][values["satisfaction_survey"] != 1] = np.nan
    if {"written_strategy", "strategy_age"} <= values.keys():
        values["strategy_age"][values["written_strategy"] != 1] = np.nan
    values = {i: x + 0.0 for i, x in values.items()}  # no "-0" in the file

    width = max(5, len(str(n)))
    meta = pd.DataFrame({
        "org_id": pd.array([f"CO-{k:0{width}d}" for k in range(1, n + 1)], dtype="str"),
        "country": pd.array(c.country, dtype="str"),
        "field": pd.array(c.field, dtype="str"),
        "founding_year": c.founding.astype("int64"),
        "benchmark_year": c.benchmark.astype("int64"),
        "label": pd.array(labels, dtype="str"),
    })
    return pd.concat([meta, pd.DataFrame(values)], axis=1)


def write(frame: pd.DataFrame, out: Path, seed: int, catalogue_dir: Path | str | None = None) -> Path:
    """Write the CSV (fixed float format, "\\n" line ends) and its `<stem>.meta.yaml` sidecar."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False, float_format=FLOAT_FORMAT, lineterminator="\n", encoding="utf-8")
    cat = read_catalogue(catalogue_dir)
    meta = {
        "version": f"synthetic-{GENERATOR_VERSION}-s{seed}-n{len(frame)}",
        "synthetic": True,
        "description": "SYNTHETIC, fictional organisations; not the licensed benchmark database.",
        "generator": GENERATOR,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "n": len(frame),
        "catalogue": cat["name"],
        "catalogue_version": cat["version"],
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
    }
    meta_path = out.with_name(out.stem + ".meta.yaml")
    meta_path.write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the synthetic benchmark database.")
    parser.add_argument("--n", type=int, default=DEFAULT_N, help=f"organisations (default {DEFAULT_N})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=HERE / "benchmark.csv", help="output CSV")
    parser.add_argument("--catalogue", type=Path, default=None, help="catalogue folder (default ../catalogue)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    out = write(generate(args.n, args.seed, args.catalogue), args.out, args.seed, args.catalogue)
    print(f"wrote {out} ({args.n} synthetic organisations, seed {args.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
