"""Consistency: every generated statement must say what the computed result says.

A statement carries structured facts (positions, dimension scores, criteria, label verdicts,
evolution, values, medians, group sizes). The check compares each fact with the AuditResult,
then renders the same phrase macros the templates use (`_phrases.j2`) and requires the
phrase in the statement's text, so a sentence that drifted from its facts (a swapped band,
a changed percentile) is caught too. Any band name or "percentile N (band)" phrase in the
text that no fact accounts for is reported as well. The auditor's own notes are not checked.
"""

from __future__ import annotations

import math
import re

from auditlib.handles import STEPS, _reachable
from auditlib.interpret import Interpretation, Statement, band_name, esc, group_name, label_name, phrases, value_text
from auditlib.present import band_id, criterion_name, shown_percentile as pct_int


def _close(a, b) -> bool:
    """Equal numbers, both missing counting as equal (None and NaN alike)."""
    a = float("nan") if a is None else float(a)
    b = float("nan") if b is None else float(b)
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _position_pattern(lang: str) -> re.Pattern:
    """A regex for any rendered position phrase: percentile number and band."""
    sample = str(phrases(lang).position("12345", "BANDBANDBAND"))
    pattern = re.escape(sample).replace("12345", r"(\d+)").replace("BANDBANDBAND", r"([^()]+?)")
    return re.compile(pattern)


class _Checker:
    def __init__(self, interpretation: Interpretation, result):
        self.i = interpretation
        self.r = result
        self.lang = interpretation.lang
        self.cat = result.catalogue
        self.ph = phrases(self.lang)
        self.pattern = _position_pattern(self.lang)
        self.positions = result.positions.set_index(["group", "indicator"])
        self.dims = result.dimensions.set_index(["group", "dimension"])
        self.criteria = result.labels.criteria.set_index(["label", "criterion"])
        self.bands = {b.id: band_name(self.cat, b.id, self.lang) for b in self.cat.peers.bands}

    def phrase_in(self, st: Statement, phrase: str, where: str, problems: list[str]) -> None:
        if str(phrase) not in st.text:
            problems.append(f"{where}: the text does not say '{phrase}': {st.text!r}")

    def statement(self, st: Statement, where: str) -> list[str]:
        problems: list[str] = []
        f = st.facts
        said: set[tuple[int, str]] = set()          # (percentile, band name) the facts account for

        for p in f.get("positions", []):
            key = (p["group"], p["indicator"])
            if key not in self.positions.index:
                problems.append(f"{where}: no position for {key} in the result")
                continue
            row = self.positions.loc[key]
            if row["percentile"] != row["percentile"] or pct_int(row["percentile"]) != p["percentile"]:
                problems.append(f"{where}: {key} percentile {p['percentile']} but the result has {row['percentile']}")
            if band_id(row["percentile"], self.cat) != p["band"]:
                problems.append(f"{where}: {key} band {p['band']} but the shown percentile is in "
                                f"{band_id(row['percentile'], self.cat)}")
            if int(row["n"]) != p["n"]:
                problems.append(f"{where}: {key} n = {p['n']} but the result has {int(row['n'])}")
            self.phrase_in(st, self.ph.position(p["percentile"], self.bands.get(p["band"], "?")), where, problems)
            self.phrase_in(st, self.ph.group(group_name(self.r, p["group"], self.lang), p["n"]), where, problems)
            said.add((p["percentile"], self.bands.get(p["band"], "?")))

        for d in f.get("dimensions", []):
            key = (d["group"], d["dimension"])
            row = self.dims.loc[key] if key in self.dims.index else None
            if row is None or row["score"] != row["score"]:
                problems.append(f"{where}: no dimension score for {key} in the result")
                continue
            if pct_int(row["score"]) != d["score"] or band_id(row["score"], self.cat) != d["band"]:
                problems.append(f"{where}: {key} score {d['score']} ({d['band']}) but the result has "
                                f"{row['score']!r} ({band_id(row['score'], self.cat)})")
            self.phrase_in(st, self.ph.position(d["score"], self.bands.get(d["band"], "?")), where, problems)
            said.add((d["score"], self.bands.get(d["band"], "?")))

        evo = self.r.evolution
        for e in f.get("evolution", []):
            if evo is None:
                problems.append(f"{where}: an evolution statement without an earlier audit")
                continue
            row = evo.changes.set_index("indicator").loc[e["indicator"]]
            for when in ("then", "now"):
                raw = row[f"percentile_{when}"]
                if raw != raw or pct_int(raw) != e[f"percentile_{when}"] or band_id(raw, self.cat) != e[f"band_{when}"]:
                    problems.append(f"{where}: {e['indicator']} percentile {when} {e[f'percentile_{when}']} "
                                    f"but the result has {raw}")
                pair = (e[f"percentile_{when}"], self.bands.get(e[f"band_{when}"], "?"))
                self.phrase_in(st, self.ph.position(*pair), where, problems)
                said.add(pair)
            if row["trend"] != e["trend"]:
                problems.append(f"{where}: {e['indicator']} trend {e['trend']} but the result has {row['trend']}")
            self.phrase_in(st, self.ph.trend(e["trend"]), where, problems)

        for c in f.get("criteria", []):
            key = (c["label"], c["criterion"])
            if key not in self.criteria.index:
                problems.append(f"{where}: unknown criterion {key}")
                continue
            passed = bool(self.criteria.loc[key, "passed"])
            if passed != c["passed"]:
                problems.append(f"{where}: criterion {key} passed={c['passed']} but the result has {passed}")
            name = c.get("name", "")       # the criterion's name in words; never its id (issue 15)
            if name and name != esc(criterion_name(c["criterion"], self.cat, self.lang,
                                                   self.criteria.loc[key, "indicator"]
                                                   if isinstance(self.criteria.loc[key, "indicator"], str) else None)):
                problems.append(f"{where}: criterion {key} is named '{name}', which is not its name")
            self.phrase_in(st, self.ph.criterion(name, label_name(self.cat, c["label"], self.lang),
                                                 c["passed"]), where, problems)

        for lab in f.get("labels", []):
            verdicts = (evo.labels_then.verdicts if lab.get("when") == "then" and evo is not None
                        else self.r.labels.verdicts)
            ready = verdicts[lab["label"]].ready
            if ready != lab["ready"]:
                problems.append(f"{where}: label {lab['label']} ready={lab['ready']} but the result has {ready}")
            self.phrase_in(st, self.ph.label_state(label_name(self.cat, lab["label"], self.lang), lab["ready"]),
                           where, problems)

        for g in f.get("groups", []):
            n = self.r.group(g["group"]).n
            if n != g["n"]:
                problems.append(f"{where}: group {g['group']} n = {g['n']} but the result has {n}")
            self.phrase_in(st, self.ph.group(group_name(self.r, g["group"], self.lang), g["n"]), where, problems)

        for v in f.get("values", []):
            actual = self.r.client.answers.get(v["indicator"])
            if not _close(actual, v["value"]):
                problems.append(f"{where}: {v['indicator']} value {v['value']} but the client answered {actual}")
            self.phrase_in(st, value_text(self.cat.indicator(v["indicator"]), v["value"], self.lang), where, problems)

        for m in f.get("medians", []):
            row = self.positions.loc[(m["group"], m["indicator"])]
            if not _close(row["median"], m["median"]) or int(row["n"]) != m["n"]:
                problems.append(f"{where}: {m['indicator']} median in {m['group']} {m['median']} "
                                f"but the result has {row['median']}")
            self.phrase_in(st, value_text(self.cat.indicator(m["indicator"]), m["median"], self.lang), where, problems)
            self.phrase_in(st, self.ph.group(group_name(self.r, m["group"], self.lang), m["n"]), where, problems)

        # the text itself: no position phrase or band name that the facts do not account for
        for number, band in self.pattern.findall(st.text):
            if (int(number), band) not in said:
                problems.append(f"{where}: the text says '{self.ph.position(number, band)}', which no fact supports")
        named = {name for name in self.bands.values() if name in st.text}
        unsupported = named - {b for _, b in said}
        if unsupported:
            problems.append(f"{where}: the text names band(s) {sorted(unsupported)} that no fact supports")
        return problems

    def handles(self) -> list[str]:
        problems: list[str] = []
        h = self.i.handles
        if list(h["priority"]) != list(range(1, len(h) + 1)):
            problems.append("handles: priorities are not 1..n in order")
        if not h["score"].is_monotonic_decreasing:
            problems.append("handles: not sorted by score")
        primary = self.r.positions_in().set_index("indicator")
        quality = {c.indicator: c.id for c in self.cat.labels.gold.quality}
        next_label = self.r.labels.next_label
        for row in h.to_dict("records"):
            iid = row["indicator"]
            where = f"handle {row['priority']} ({iid})"
            ind = self.cat.indicator(iid)
            if not ind.scored:
                problems.append(f"{where}: a context-only indicator has a handle")
            if not _close(self.r.client.answers.get(iid), row["value"]):
                problems.append(f"{where}: value {row['value']} is not the client's answer")
            if row["target_kind"] == "threshold":
                key = (row["label"], row["criterion"])
                if row["label"] != next_label or key not in self.criteria.index:
                    problems.append(f"{where}: threshold of {key}, not a criterion of the next label {next_label}")
                    continue
                c = self.criteria.loc[key]
                if bool(c["passed"]) or not _close(c["threshold"], row["target"]) or c["indicator"] != iid:
                    problems.append(f"{where}: criterion {key} is met or its threshold is not {row['target']}")
            elif row["target_kind"] == "next quartile":
                col = dict(STEPS[ind.direction]).get(row["target_step"])
                stat = primary.loc[iid, col] if col else float("nan")
                if stat != stat or not _close(_reachable(ind, float(stat), ind.direction), row["target"]):
                    problems.append(f"{where}: target {row['target']} is not the peers' {row['target_step']}")
                better = row["target"] > row["value"] if ind.direction == "higher" else row["target"] < row["value"]
                if not better:
                    problems.append(f"{where}: target {row['target']} is not above the value {row['value']}")
                if isinstance(row["criterion"], str) and quality.get(iid) != row["criterion"]:
                    problems.append(f"{where}: criterion {row['criterion']} is not the Gold quality criterion of {iid}")
            else:
                problems.append(f"{where}: unknown target kind {row['target_kind']!r}")
        candidates = h[h["gold_quality"].astype(bool) & h["value"].notna()]
        expected = list(candidates["indicator"].head(len(self.i.silver_areas)))
        if list(self.i.silver_areas) != expected or any(a not in quality for a in self.i.silver_areas):
            problems.append(f"silver areas {self.i.silver_areas} are not the top Gold quality handles {expected}")
        return problems


def check_consistency(interpretation: Interpretation, result) -> list[str]:
    """Problems where the interpretation's statements or handles disagree with the result (empty = consistent)."""
    checker = _Checker(interpretation, result)
    problems: list[str] = []
    for section in interpretation.sections:
        for k, st in enumerate(section.statements):
            if st.source == "generated":
                problems += checker.statement(st, f"{section.anchor} #{k + 1} ({st.kind})")
    return problems + checker.handles()
