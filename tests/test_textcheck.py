"""Free text against the figures (auditlib.textcheck): every kind of stated figure, EN and NL.

The figures are those of the example client nl-delta-water (fictional): Gold not ready (34 of
37 criteria, total 76%), Silver and Bronze ready, the field group n = 177, Profile on the ECCP
at P71, Financing at a mean percentile 59, Annual budget at P82 with a median of 241.7.
"""

from __future__ import annotations

import json

import pytest
from auditlib.testing import DATA

from auditlib.textcheck import Figures, check_text, figures, sentence_key, sentences


@pytest.fixture(scope="module")
def figs():
    from auditlib.audit import analyse
    from auditlib.benchmark import load_benchmark
    from auditlib.catalogue import load_catalogue

    cat = load_catalogue(DATA / "catalogue")
    result = analyse(DATA / "clients" / "nl-delta-water", catalogue=cat,
                     benchmark=load_benchmark(DATA / "benchmark" / "benchmark.csv", cat))
    return {lang: figures(result, lang) for lang in ("en", "nl")}


def says(text: str, anchor: str, f: Figures) -> list[str]:
    return [c.says for c in check_text(text, anchor, f)]


RIGHT = {
    "en": [("indicators:achievements", ("Profile on the European Cluster Collaboration Platform is at percentile 71 "
                                       "(third quartile).")),
           ("dimension:financing", ("Financing of the cluster management is at a mean percentile 59 (third quartile); "
                                   "a typical peer is at a mean of 50.")),
           ("indicators:financing", ("Annual budget of the cluster management is a strength at P82; the peer median "
                                    "is 241.7 EUR thousand.")),
           ("labels", "Gold: not yet ready; 34 of 37 criteria are met and the total score is 76%."),
           ("labels", "Bronze and Silver are ready, Gold is not ready yet."),
           ("overall", "Against organisations in the same field: Energy and environment (n = 177) it does well."),
           ("dimension:financing", "The next step is the peers' 75th percentile (P75)."),
           ("overall", "Groups with fewer than 10 organisations show no statistics.")],
    "nl": [("indicators:achievements", ("Profiel op het European Cluster Collaboration Platform: percentiel 71 "
                                       "(derde kwartiel).")),
           ("labels", "Goud: nog niet gereed; 34 van de 37 criteria zijn gehaald en de totaalscore is 76%."),
           ("labels", "Zilver: gereed."),
           ("overall", "Ten opzichte van organisaties in hetzelfde veld: Energie en milieu (n = 177) gaat het goed.")],
}

WRONG = {
    "en": [("indicators:achievements", "Profile on the European Cluster Collaboration Platform is in the top 10%.",
            "'top 10%'"),
           ("indicators:achievements", "Profile on the European Cluster Collaboration Platform is at percentile 90.",
            "percentile 90"),
           ("overall", "Profile on the European Cluster Collaboration Platform: percentile 71 (top quartile).",
            "percentile 71 (top quartile)"),
           ("dimension:financing", "Financing is in the top quartile.", "'top quartile'"),
           ("overall", "Against organisations in the same field: Energy and environment (n = 178) it does well.",
            "n = 178"),
           ("overall", "The benchmark holds 4,321 organisations.", "n = 4,321"),
           ("indicators:financing", "Annual budget of the cluster management: the peer median is 300 EUR thousand.",
            "a median of 300"),
           ("dimension:financing", "A typical peer is at a mean of 61.", "a typical peer at 61"),
           ("labels", "The cluster is ready for Gold.", "Gold 'ready'"),
           ("labels", "Silver: not yet ready.", "Silver 'not yet ready'"),
           ("labels", "Gold: 35 of 37 criteria are met.", "'35 of 37 criteria'"),
           ("labels", "Gold: the total score is 80%.", "a Gold total score of 80%")],
    "nl": [("indicators:achievements", ("Het profiel op het European Cluster Collaboration Platform staat in de "
                                       "top 10%."), "'top 10%'"),
           ("overall", "Ten opzichte van organisaties in hetzelfde veld: Energie en milieu (n = 178) gaat het goed.",
            "n = 178"),
           ("labels", "Goud: gereed.", "Goud 'gereed'"),
           ("labels", "Zilver is nog niet gereed.", "Zilver 'nog niet gereed'"),
           ("labels", "Goud: 35 van de 37 criteria zijn gehaald.", "'35 van de 37 criteria'"),
           ("labels", "De totaalscore voor Goud is 80%.", "a Gold total score of 80%")],
}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_sentences_that_agree_with_the_figures_pass(figs, lang):
    for anchor, text in RIGHT[lang]:
        assert says(text, anchor, figs[lang]) == [], text


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_each_kind_of_wrong_figure_is_caught(figs, lang):
    for anchor, text, expected in WRONG[lang]:
        assert says(text, anchor, figs[lang]) == [expected], text


def test_a_contradiction_names_sentence_what_it_says_and_the_figure(figs):
    [c] = check_text("- Gold: ready.\n- Bronze: ready.", "labels", figs["en"], cell=19)
    assert (c.cell, c.anchor, c.sentence, c.figure) == (19, "labels", "Gold: ready.", "Gold is not ready")
    assert c.key == sentence_key("Gold:   ready.", c.says) and len(c.key) == 12
    assert c.message().startswith('cell 19 (labels): "Gold: ready." says') and c.key in c.message()


def test_a_sentence_without_a_name_is_about_what_its_paragraph_named_last(figs):
    text = ("Profiel op het European Cluster Collaboration Platform: een sterk punt. Het cluster staat in de "
            "top 10%.")
    assert says(text, "indicators:achievements", figs["nl"]) == ["'top 10%'"]


def test_markdown_is_read_as_the_reader_sees_it():
    assert sentences("### Title\n\n- **Gold**: ready. Silver \\[x\\] too.\n- A &amp; B.") == \
        ["Gold: ready.", "Silver [x] too.", "A & B."]


def test_the_snapshot_survives_json_and_holds_shown_figures_only(figs):
    data = json.loads(json.dumps(figs["en"].to_json()))
    again = Figures.from_json(data)
    assert says("Gold: ready.", "labels", again) == ["Gold 'ready'"]
    pos = data["indicators"]["eccp_profile"]["positions"]["field"]
    assert pos["pct"] == 71 and isinstance(pos["pct"], int)
    assert all(isinstance(g["n"], int) for g in data["groups"].values())
