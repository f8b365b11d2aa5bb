"""Outcomes feed the cooperation factor: dated, decayed, explained, never looked ahead at."""

from __future__ import annotations

import copy
import datetime
import math
from typing import Any

import numpy as np
import pytest

from matching import (
    DatasetError,
    Outcome,
    Weights,
    decay,
    explain_link,
    load_dataset,
    load_outcomes,
    network_from_dataset,
    outcome_evidence,
    parse_outcomes,
    score_components,
)

DATASET = load_dataset()
BASE = network_from_dataset(DATASET)
D = datetime.date


def outcome(ne: str, east: str, value: float, when: datetime.date, **kw: Any) -> Outcome:
    return Outcome(
        northeast=ne,
        east=east,
        indicator=kw.pop("indicator", "projects_signed"),
        value=value,
        date=when,
        channels=kw.pop("channels", ("equipment",)),
        source="report-shenyang-beijing-2018",
        **kw,
    )


def score(as_of: datetime.date, outcomes: list[Outcome], ne: str, east: str) -> float:
    net = network_from_dataset(DATASET, as_of=as_of, outcomes=outcomes)
    scores = score_components(net).combine(Weights.resolve(net.taxonomy))
    return float(scores[net.northeast.index[ne], net.east.index[east]])


def test_an_outcome_dated_after_the_evaluation_date_has_no_effect() -> None:
    later = [outcome("harbin", "beijing", 50, D(2019, 6, 1))]
    for as_of in (D(2017, 3, 7), D(2019, 5, 31)):
        assert score(as_of, later, "harbin", "beijing") == score(as_of, [], "harbin", "beijing")
    # From its date on, it raises the pair's score (harbin-beijing has no tie to saturate it).
    assert score(D(2019, 6, 1), later, "harbin", "beijing") > score(
        D(2019, 6, 1), [], "harbin", "beijing"
    )


def test_outcomes_raise_the_cooperation_factor_by_the_probabilistic_sum() -> None:
    net = network_from_dataset(
        DATASET, as_of=D(2020, 1, 1), outcomes=[outcome("harbin", "beijing", 5, D(2019, 1, 1))]
    )
    i, j = net.northeast.index["harbin"], net.east.index["beijing"]
    comps = score_components(net)
    c_ne, c_ea = net.northeast.factors[i, 3], net.east.factors[j, 3]
    t, o = net.ties[i, j], net.evidence[i, j] if net.evidence is not None else 0.0
    assert o == 1.0  # the only pair with outcomes leads its indicator
    k = comps.component_ids.index("cooperation_status")
    assert comps.raw[k, i, j] == pytest.approx((c_ne * c_ea + t + o * (1 - t)) / 2)
    # An official pair (t = 1) is saturated: outcomes change nothing.
    official = network_from_dataset(
        DATASET, as_of=D(2020, 1, 1), outcomes=[outcome("harbin", "shenzhen", 5, D(2019, 1, 1))]
    )
    plain = network_from_dataset(DATASET, as_of=D(2020, 1, 1))
    assert np.array_equal(score_components(official).raw, score_components(plain).raw)


def test_every_score_says_which_outcomes_it_drew_on_and_the_parts_add_up() -> None:
    outcomes = [
        outcome("harbin", "beijing", 10, D(2018, 1, 1)),
        outcome("harbin", "beijing", 2, D(2019, 1, 1), indicator="parks_opened"),
        outcome("dalian", "beijing", 40, D(2019, 1, 1)),
        outcome("harbin", "beijing", 99, D(2030, 1, 1)),
    ]
    as_of = D(2020, 1, 1)
    evidence = outcome_evidence(outcomes, BASE.northeast.ids, BASE.east.ids, as_of=as_of)
    net = network_from_dataset(DATASET, as_of=as_of, outcomes=outcomes)
    assert net.evidence is not None and np.array_equal(net.evidence, evidence.matrix)
    drawn = evidence.of_pair(net.northeast.index["harbin"], net.east.index["beijing"])
    assert [d.outcome.date for d in drawn] == [D(2019, 1, 1), D(2018, 1, 1)]
    assert math.fsum(d.evidence for d in drawn) == pytest.approx(
        evidence.matrix[net.northeast.index["harbin"], net.east.index["beijing"]]
    )
    # By hand: projects decayed by 2 and 1 years, over dalian's (the leader); parks: harbin leads.
    harbin_projects = 10 * decay((as_of - D(2018, 1, 1)).days)
    dalian_projects = 40 * decay((as_of - D(2019, 1, 1)).days)
    expected = (harbin_projects / dalian_projects + 1.0) / 2
    i, j = net.northeast.index["harbin"], net.east.index["beijing"]
    assert evidence.matrix[i, j] == pytest.approx(expected)
    explanation = explain_link(net, i, j, Weights.resolve(net.taxonomy))
    cooperation = next(c for c in explanation.contributions if c.component == "cooperation_status")
    term = next(t for t in cooperation.terms if t.direction == "outcomes")
    assert term.value == pytest.approx(0.02 * 0.5 * expected * (1 - net.ties[i, j]))
    assert math.fsum(t.value for t in cooperation.terms) == pytest.approx(cooperation.value)


def test_decay_halves_an_outcomes_weight_every_half_life() -> None:
    as_of = D(2021, 1, 1)
    outcomes = [
        outcome("harbin", "beijing", 10, as_of - datetime.timedelta(days=730)),
        outcome("dalian", "beijing", 10, as_of),
    ]
    ev = outcome_evidence(outcomes, ["harbin", "dalian"], ["beijing"], as_of=as_of)
    assert ev.matrix[:, 0].tolist() == pytest.approx([0.5, 1.0])
    slow = outcome_evidence(
        outcomes, ["harbin", "dalian"], ["beijing"], as_of=as_of, half_life=1460
    )
    assert slow.matrix[0, 0] == pytest.approx(2**-0.5)
    with pytest.raises(ValueError, match="`half_life` must be > 0, got 0"):
        outcome_evidence(outcomes, ["harbin"], ["beijing"], as_of=as_of, half_life=0)


def test_the_published_outcomes_cite_the_datasets_reports() -> None:
    version, outcomes = load_outcomes(DATASET)
    assert version and len(outcomes) >= 10
    for item in outcomes:
        assert item.source in DATASET.sources
        assert DATASET.sources[item.source].kind in ("article", "report")
        # An outcome is dated no earlier than the report it comes from could know it.
        published = DATASET.sources[item.source].published or ""
        assert item.date.isoformat()[:4] <= published[:4]
    # The domain notes' examples are there, with their figures.
    found = {(o.northeast, o.east, o.indicator): o.value for o in outcomes}
    assert found[("shenyang", "beijing", "projects_signed")] == 208
    assert found[("harbin", "shenzhen", "policies_copied")] == 129
    assert found[("shenyang", "beijing", "investment_paid")] == 43.2e9


def test_an_invalid_outcome_document_names_the_outcome_and_field() -> None:
    _, shipped = load_outcomes(DATASET)
    doc = {
        "version": "x",
        "outcomes": [
            {"northeast": "harbin", "east": "beijing", "indicator": "projects_signed",
             "value": 1, "date": "2019-01-01", "channels": ["equipment"],
             "source": "report-shenyang-beijing-2018"},
        ],
    }  # fmt: skip
    assert len(parse_outcomes(doc, dataset=DATASET)[1]) == 1
    for field, value, message in (
        ("indicator", "jobs", "outcomes[0]: indicator: must be one of"),
        ("east", "harbin", "outcomes[0]: east: 'harbin' is a northeast region, not east"),
        ("channels", ["tourism"], "outcomes[0]: channels: unknown channel 'tourism'"),
        ("source", "blog", "outcomes[0]: source: unknown source 'blog'"),
        ("value", -1, "outcomes[0]: value: must be >= 0"),
        ("date", "2019-13-01", "outcomes[0]: date: must be an ISO date"),
    ):
        bad = copy.deepcopy(doc)
        bad["outcomes"][0][field] = value
        with pytest.raises(DatasetError, match=message.replace("[", r"\[").replace("]", r"\]")):
            parse_outcomes(bad, dataset=DATASET)
    assert shipped
