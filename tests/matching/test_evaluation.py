"""The effectiveness report and calibration, against hand computation."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from matching import (
    OUTCOME_INDICATORS,
    Outcome,
    Target,
    Weights,
    activity_index,
    calibration,
    evaluation_report,
    load_dataset,
    load_outcomes,
    network_from_dataset,
    score_components,
)

DATASET = load_dataset()
BASE = network_from_dataset(DATASET)
D = datetime.date


def outcome(ne: str, east: str, indicator: str, value: float, when: datetime.date,
            channels: tuple[str, ...] = ("equipment",)) -> Outcome:  # fmt: skip
    return Outcome(ne, east, indicator, value, when, channels, "report-shenyang-beijing-2018")


CULTURE = "culture_tourism_health"
OUTCOMES = [
    outcome("harbin", "shenzhen", "projects_signed", 10, D(2018, 5, 1)),
    outcome("harbin", "shenzhen", "projects_signed", 30, D(2019, 5, 1), ("equipment", "platforms")),
    outcome("harbin", "beijing", "projects_signed", 20, D(2019, 7, 1), ("innovation",)),
    outcome("harbin", "beijing", "tourists_exchanged", 5000, D(2019, 7, 1), (CULTURE,)),
    outcome("dalian", "shanghai", "parks_opened", 1, D(2021, 1, 1), ("platforms",)),
]  # fmt: skip


def test_totals_trend_and_channels_by_hand() -> None:
    report = evaluation_report(
        network_from_dataset(DATASET), OUTCOMES, first_year=2018, last_year=2020
    )
    assert report.years == (2018, 2019, 2020) and report.outcomes == 4
    projects = next(s for s in report.indicators if s.indicator == "projects_signed")
    assert projects.total == 60 and projects.by_year == (10.0, 50.0, 0.0)
    assert projects.slope == pytest.approx(np.polyfit([0, 1, 2], [10, 50, 0], 1)[0])
    # An outcome with two channels counts in each of them.
    assert projects.by_channel["equipment"] == 40 and projects.by_channel["platforms"] == 30
    assert projects.by_channel["innovation"] == 20
    assert projects.by_channel_year["equipment"] == (10.0, 30.0, 0.0)
    tourists = next(s for s in report.indicators if s.indicator == "tourists_exchanged")
    assert tourists.unit == "visits" and tourists.total == 5000


def test_league_table_inactive_pairs_and_gaps() -> None:
    network = network_from_dataset(DATASET, as_of=D(2020, 12, 31))
    report = evaluation_report(network, OUTCOMES, first_year=2018, last_year=2020)
    # Index: projects (harbin-shenzhen 40 leads, harbin-beijing 20), tourists (harbin-beijing).
    league = {(p.northeast, p.east): p for p in report.league}
    assert league[("harbin", "shenzhen")].index == pytest.approx((1.0 + 0.0) / 2)
    assert league[("harbin", "beijing")].index == pytest.approx((0.5 + 1.0) / 2)
    assert [p.rank for p in report.league] == [1, 2]
    assert report.league[0].east == "beijing" and not report.league[0].existing
    assert report.league[1].existing and report.league[1].totals == {"projects_signed": 40.0}
    # Official pairs and ties in force by the end of the range without outcomes are inactive.
    assert ("dalian", "shanghai") in report.inactive  # its park opened in 2021, out of range
    assert ("harbin", "shenzhen") not in report.inactive
    assert ("heilongjiang", "shenzhen") in report.inactive  # the 2019 park tie
    gaps = {g.northeast: g.channels for g in report.gaps}
    assert set(gaps) == set(network.northeast.ids)
    assert set(gaps["harbin"]) == set(network.taxonomy.channel_ids) - {
        "equipment", "platforms", "innovation", "culture_tourism_health"
    }  # fmt: skip
    assert gaps["dalian"] == network.taxonomy.channel_ids


def test_targets_and_one_pairs_report() -> None:
    targets = [
        Target("harbin", "shenzhen", 2019, "projects_signed", 20),
        Target("harbin", "shenzhen", 2018, "projects_signed", 20),
        Target("harbin", "shenzhen", 2019, "investment_paid", 1e9),
        Target("dalian", "shanghai", 2019, "parks_opened", 1),
    ]
    report = evaluation_report(
        network_from_dataset(DATASET),
        OUTCOMES,
        targets,
        first_year=2018,
        last_year=2019,
        pair=("harbin", "shenzhen"),
    )
    assert report.pair == ("harbin", "shenzhen") and report.outcomes == 2
    got = [(a.target.year, a.target.indicator, a.actual, a.ratio, a.met) for a in report.attainment]
    assert got == [
        (2018, "projects_signed", 10.0, 0.5, False),
        (2019, "projects_signed", 30.0, 1.5, True),
        (2019, "investment_paid", 0.0, 0.0, False),
    ]
    assert [g.northeast for g in report.gaps] == ["harbin"]
    assert report.inactive == ()
    with pytest.raises(ValueError, match="`pair` must be"):
        evaluation_report(network_from_dataset(DATASET), OUTCOMES, first_year=2018,
                          last_year=2019, pair=("shenzhen", "harbin"))  # fmt: skip
    with pytest.raises(ValueError, match="`last_year` must not be before `first_year`"):
        evaluation_report(network_from_dataset(DATASET), OUTCOMES, first_year=2019, last_year=2018)


def test_the_activity_index_is_a_mean_of_shares_of_the_leader() -> None:
    amounts = np.array([[4.0, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 3.0, 3.0]])
    assert activity_index(amounts).tolist() == pytest.approx([(1 + 1 / 3) / 2, (0.5 + 1) / 2, 0.5])


def test_calibration_uses_no_outcome_or_tie_from_the_year_it_predicts() -> None:
    weights = Weights.resolve(DATASET.taxonomy)
    rows = calibration(DATASET, OUTCOMES, first_year=2018, last_year=2021)
    by_year = {r.year: r for r in rows}
    assert by_year[2020].rho is None and by_year[2020].active_pairs == 0
    assert by_year[2019].pairs == 49 and by_year[2019].active_pairs == 2
    # By hand: the scores as of 2018-12-31 (ties and outcomes by then) against 2019's activity.
    net = network_from_dataset(DATASET, as_of=D(2018, 12, 31), outcomes=OUTCOMES)
    scores = score_components(net).combine(weights)
    activity = np.zeros(net.shape)
    activity[net.northeast.index["harbin"], net.east.index["shenzhen"]] = (1.0 + 0) / 2
    activity[net.northeast.index["harbin"], net.east.index["beijing"]] = (20 / 30 + 1) / 2
    expected = spearmanr(scores.ravel(), activity.ravel()).statistic
    assert by_year[2019].rho == pytest.approx(expected)
    # An outcome of a later year changes nothing before it; one of the year changes only it.
    more = [*OUTCOMES, outcome("jilin", "jiangsu", "projects_signed", 99, D(2019, 2, 1))]
    changed = {r.year: r for r in calibration(DATASET, more, first_year=2018, last_year=2019)}
    assert changed[2018] == by_year[2018]
    assert changed[2019].active_pairs == 3 and changed[2019].rho != by_year[2019].rho


def test_the_published_outcomes_report() -> None:
    _, published = load_outcomes(DATASET)
    report = evaluation_report(
        network_from_dataset(DATASET, as_of=D(2026, 12, 31)), published,
        first_year=2017, last_year=2026,
    )  # fmt: skip
    assert report.outcomes == len(published)
    projects = next(s for s in report.indicators if s.indicator == "projects_signed")
    assert projects.total == 208 + 89 + 290 + 119
    assert math.isclose(
        next(s for s in report.indicators if s.indicator == "investment_agreed").total,
        (2887 + 815 + 3000 + 1136.8) * 1e8,
    )
    assert {("dalian", "shanghai"), ("changchun", "tianjin"), ("liaoning", "jiangsu")} <= set(
        report.inactive
    )


@st.composite
def random_outcomes(draw: st.DrawFn) -> list[Outcome]:
    network = BASE
    channels = network.taxonomy.channel_ids
    count = draw(st.integers(0, 40))
    return [
        Outcome(
            draw(st.sampled_from(network.northeast.ids)),
            draw(st.sampled_from(network.east.ids)),
            draw(st.sampled_from(OUTCOME_INDICATORS)),
            draw(st.sampled_from([0.0, 1.0, 2.5, 7.0, 1e9])),
            D(draw(st.integers(2016, 2021)), draw(st.integers(1, 12)), 1),
            tuple(draw(st.sets(st.sampled_from(channels), min_size=1, max_size=3))),
            "s",
        )
        for _ in range(count)
    ]


@settings(max_examples=100, deadline=None)
@given(random_outcomes())
def test_the_report_matches_a_plain_loop(outcomes: list[Outcome]) -> None:
    report = evaluation_report(BASE, outcomes, first_year=2017, last_year=2020)
    inside = [o for o in outcomes if 2017 <= o.year <= 2020]
    for summary in report.indicators:
        mine = [o for o in inside if o.indicator == summary.indicator]
        assert summary.total == pytest.approx(math.fsum(o.value for o in mine))
        for k, year in enumerate(report.years):
            expected = math.fsum(o.value for o in mine if o.year == year)
            assert summary.by_year[k] == pytest.approx(expected)
        for channel, value in summary.by_channel.items():
            expected = math.fsum(o.value for o in mine if channel in o.channels)
            assert value == pytest.approx(expected)
    # The league's index, by hand: per indicator reported, the pair's total over the best pair's.
    totals: dict[tuple[str, str], dict[str, float]] = {}
    for o in inside:
        pair = totals.setdefault((o.northeast, o.east), {})
        pair[o.indicator] = pair.get(o.indicator, 0.0) + o.value
    best = {k: max(t.get(k, 0.0) for t in totals.values()) for k in OUTCOME_INDICATORS if totals}
    reported = [k for k, v in best.items() if v > 0]
    for row in report.league:
        expected = (
            sum(totals[(row.northeast, row.east)].get(k, 0.0) / best[k] for k in reported)
            / len(reported)
            if reported
            else 0.0
        )
        assert row.index == pytest.approx(expected)
    assert {(r.northeast, r.east) for r in report.league} == set(totals)
    assert [r.index for r in report.league] == sorted(
        (r.index for r in report.league), reverse=True
    )
    active = {(o.northeast, c) for o in inside for c in o.channels}
    for gap in report.gaps:
        assert all((gap.northeast, c) not in active for c in gap.channels)
        assert all(
            (gap.northeast, c) in active for c in BASE.taxonomy.channel_ids if c not in gap.channels
        )
