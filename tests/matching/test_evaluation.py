"""The effectiveness report and calibration, against hand computation."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from matching import (
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
