"""The shipped regions.json is the build's output, and every value in it can be checked."""

from __future__ import annotations

import datetime
import statistics
from pathlib import Path

import pytest

from app.services.dataset_build import build_dataset, dataset_text
from matching import load_dataset
from matching.dataset import Dataset, Measure, Region, Sourced

SHIPPED = Path(__file__).resolve().parents[2] / "matching" / "data" / "regions.json"
GENERIC_SOURCES = {"domain-profiles", "estimate"}
CITIES_IN_PROVINCES = {
    "shenyang": "liaoning",
    "dalian": "liaoning",
    "changchun": "jilin",
    "harbin": "heilongjiang",
    "shenzhen": "guangdong",
}


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return load_dataset()


def _values(ds: Dataset) -> list[tuple[str, str, str, Sourced]]:
    out = []
    for r in ds.regions:
        for table, items in (
            ("factors", r.factors),
            ("strengths", r.strengths),
            ("needs", r.needs),
        ):
            out += [(r.id, table, key, item) for key, item in items.items()]
    return out


def test_committed_file_equals_the_build(tmp_path: Path) -> None:
    assert SHIPPED.read_text("utf-8") == dataset_text()
    out = tmp_path / "regions.json"
    assert build_dataset(out, check=True) is False
    build_dataset(out, check=False)
    assert build_dataset(out, check=True) is True


def _ratio_from_figures(m: Measure) -> float:
    """Recompute M from the recorded figures, independently of the builder."""
    f = m.figures
    if m.transform.startswith("value = mean") or m.transform.startswith("value = gdp"):
        raise AssertionError("not a ratio measure")
    numerators = [k for k in f if not k.startswith("reference_") and k != m.denominator]
    ratios = []
    for k in numerators:
        mine = f[k] / (f[m.denominator] if m.denominator else 1.0)
        if f"reference_{k}" not in f:
            ratios.append(mine)
            continue
        ref_den = f[f"reference_{m.denominator}"] if m.denominator else 1.0
        ratios.append(mine / (f[f"reference_{k}"] / ref_den))
    return statistics.fmean(ratios)


TRANSFORMS = {
    "strength = max(0, (M - 1) / (M + 1))": lambda m: max(0.0, (m - 1) / (m + 1)),
    "need = max(0, (1 - M) / (1 + M))": lambda m: max(0.0, (1 - m) / (1 + m)),
    "value = M / (1 + M)": lambda m: m / (1 + m),
    "value = M": lambda m: m,
}


def test_every_measured_value_is_reproduced_by_its_figures(ds: Dataset) -> None:
    checked = 0
    for rid, table, key, item in _values(ds):
        if item.kind == "estimate":
            continue
        m = item.measure
        assert m is not None, (rid, table, key)
        if m.transform == "value = mean of the figures":
            expected = statistics.fmean(m.figures.values())
        elif m.transform.startswith("value = gdp_per_capita"):
            expected = m.figures["gdp_per_capita_yuan"] / m.figures["max_gdp_per_capita_yuan"]
        else:
            ratio = _ratio_from_figures(m)
            assert ratio == pytest.approx(m.ratio, rel=1e-3), (rid, table, key)
            expected = TRANSFORMS[m.transform](ratio)
        assert item.value == pytest.approx(expected, abs=1.5e-3), (rid, table, key)
        checked += 1
    assert checked > 100


def test_every_estimate_has_a_concrete_source_and_a_range(ds: Dataset) -> None:
    for rid, table, key, item in _values(ds):
        assert item.source not in GENERIC_SOURCES
        if item.kind == "estimate":
            assert item.range is not None, (rid, table, key)
            lo, hi = item.range
            assert lo <= item.value <= hi
            assert item.note.startswith("basis:"), (rid, table, key)


def test_no_source_is_named_after_the_team_notes(ds: Dataset) -> None:
    assert not GENERIC_SOURCES & set(ds.sources)
    used = {item.source for *_, item in _values(ds)}
    for key in used:
        assert "domain notes" not in ds.sources[key].title


def test_every_sector_can_contribute_to_some_pair(ds: Dataset) -> None:
    synergy = {c.id for c in ds.taxonomy.channels if c.synergy}
    ne = [r for r in ds.regions if r.side == "northeast"]
    east = [r for r in ds.regions if r.side == "east"]
    for sector in ds.taxonomy.sectors:
        s = sector.id

        def some(regions: list[Region], table: str, s: str = s) -> bool:
            return any(getattr(r, table).get(s) for r in regions)

        supply_meets_need = (some(ne, "strengths") and some(east, "needs")) or (
            some(east, "strengths") and some(ne, "needs")
        )
        both_strong = (
            sector.channel in synergy and some(ne, "strengths") and some(east, "strengths")
        )
        assert supply_meets_need or both_strong, s


def test_measured_values_follow_the_province_city_rule(ds: Dataset) -> None:
    by_id = {r.id: r for r in ds.regions}
    checked = 0
    for rid, table, key, item in _values(ds):
        if item.kind != "derived" or item.measure is None or item.measure.rule is None:
            continue
        region = by_id[rid]
        if region.level == "city":
            parent = by_id[CITIES_IN_PROVINCES[rid]]
            other = getattr(parent, table).get(key)
            assert other is not None and other.kind == "measured"
            assert other.measure is not None and other.measure.ratio == item.measure.ratio
            assert other.value == item.value
        else:
            assert "pooled from the table's cities" in item.measure.rule
        checked += 1
    assert checked > 20
    # Both levels of the same sector come from one statistic.
    for city, province in CITIES_IN_PROVINCES.items():
        for table in ("strengths", "needs"):
            for key, item in getattr(by_id[city], table).items():
                other = getattr(by_id[province], table).get(key)
                if item.measure and other and other.measure:
                    assert item.measure.statistic == other.measure.statistic


def test_ties_carry_start_dates_and_sources(ds: Dataset) -> None:
    assert ds.adopted == datetime.date(2017, 3, 7)
    for tie in ds.ties:
        assert isinstance(tie.start, datetime.date)
        if tie.kind == "official":
            assert tie.start == ds.adopted
        else:
            assert tie.source in ds.sources and tie.source not in GENERIC_SOURCES
            assert tie.note
    assert not [t for t in ds.ties if t.kind == "provincial_framework"]
    # Later ties are kept as the plan's outcomes.
    assert any(t.start > ds.adopted for t in ds.ties)


def test_tianjin_gdp_is_the_pre_correction_vintage(ds: Dataset) -> None:
    gdp = ds.region("tianjin").indicators["gdp"]
    assert gdp.value == pytest.approx(17885.39) and "pre-Binhai" in gdp.note
