"""The dataset: regions with their profiles and provenance, and the ties that already exist.

A dataset is a JSON document (the shipped one is ``matching/data/regions.json``). It is validated
whole on load; the first problem found is raised as a `DatasetError` naming the file, the record
and the field.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matching._records import RecordReader, read_document
from matching.errors import DatasetError
from matching.taxonomy import FACTOR_IDS, Taxonomy, load_taxonomy

__all__ = [
    "INDICATOR_IDS",
    "LEVELS",
    "VALUE_KINDS",
    "SIDES",
    "TIE_KINDS",
    "Dataset",
    "Indicator",
    "Measure",
    "Region",
    "Sourced",
    "Source",
    "Tie",
    "dataset_document",
    "load_dataset",
    "parse_dataset",
]

SIDES = ("northeast", "east")
LEVELS = ("province", "city")
INDICATOR_IDS = ("gdp", "population")
#: Kinds of recorded ties; ``official`` ties are derived from the regions' ``counterparts``.
TIE_KINDS = (
    "official",
    "business_community",
    "industrial_park",
    "projects",
    "provincial_framework",
    "agreement",
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: How a profile value was obtained: from a source table, from other values of the dataset, or
#: estimated (with a stated range).
VALUE_KINDS = ("measured", "derived", "estimate")
#: Strength of an official pairing: the strongest tie there is.
OFFICIAL_TIE_STRENGTH = 1.0

#: Longest version string: a version names a stored dataset and is looked up by value.
MAX_VERSION_LENGTH = 200


@dataclass(frozen=True)
class Source:
    """Where values come from: a policy, an article, a statistical communiqué, an estimate."""

    id: str
    title: str
    kind: str
    url: str | None = None
    published: str | None = None
    repository: str | None = None
    commit: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class Measure:
    """How a measured or derived value was computed: statistic, ratio M, transform, figures."""

    statistic: str
    reference: str
    ratio: float
    transform: str
    year: int
    table: str
    figures: dict[str, float]
    denominator: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Sourced:
    """A value in [0, 1] with its provenance.

    ``kind`` is ``measured`` (from a source table) or ``derived`` (from other values), both
    with their `measure`, or ``estimate`` with the stated uncertainty `range` (lo <= value <= hi).
    """

    value: float
    source: str
    note: str
    kind: str = "estimate"
    measure: Measure | None = None
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Indicator:
    """A statistical indicator (GDP, population) with its unit, year and provenance."""

    value: float
    unit: str
    year: int
    source: str
    note: str


@dataclass(frozen=True)
class Region:
    """A region's profile."""

    id: str
    name_en: str
    name_zh: str
    side: str
    level: str
    parent: str | None
    counterparts: tuple[str, ...]
    indicators: dict[str, Indicator]
    factors: dict[str, Sourced]
    strengths: dict[str, Sourced]
    needs: dict[str, Sourced]


@dataclass(frozen=True)
class Tie:
    """A tie between a northeast and an eastern region, in force from its `start` date.

    Official pairs start at the plan's adoption; ties that start later are the plan's outcomes.
    """

    northeast: str
    east: str
    kind: str
    strength: float
    description: str
    start: datetime.date
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A validated dataset; `ties` include the official pairings derived from `counterparts`."""

    version: str
    title: str
    taxonomy: Taxonomy
    regions: tuple[Region, ...]
    ties: tuple[Tie, ...]
    adopted: datetime.date
    sources: dict[str, Source] = field(default_factory=dict)
    description: str = ""

    def region(self, region_id: str) -> Region:
        """The region with this id; `KeyError` if there is none."""
        for region in self.regions:
            if region.id == region_id:
                return region
        raise KeyError(region_id)

    def ties_of(self, region_id: str) -> tuple[Tie, ...]:
        """Every tie the region has, official ones included."""
        return tuple(t for t in self.ties if region_id in (t.northeast, t.east))


_REGION_FIELDS = (
    "id",
    "name_en",
    "name_zh",
    "side",
    "level",
    "parent",
    "counterparts",
    "indicators",
    "factors",
    "strengths",
    "needs",
)
_TIE_FIELDS = (
    "northeast",
    "east",
    "kind",
    "strength",
    "description",
    "source",
    "note",
    "start",
)
_MEASURE_FIELDS = (
    "statistic",
    "reference",
    "ratio",
    "transform",
    "year",
    "table",
    "figures",
    "denominator",
    "rule",
)


def parse_dataset(obj: Any, *, taxonomy: Taxonomy, origin: str = "<dataset>") -> Dataset:
    """Validate a dataset document against `taxonomy` and build a `Dataset`.

    Raises
    ------
    DatasetError
        For the first problem found, naming `origin`, the record and the field.

    Examples
    --------
    >>> ds = load_dataset()
    >>> ds.region("harbin").counterparts
    ('shenzhen',)
    >>> sorted({t.kind for t in ds.ties_of("harbin")})[:2]
    ['industrial_park', 'official']
    """
    doc = RecordReader(obj, origin=origin, record="dataset")
    doc.check_keys(("version", "title", "description", "adopted", "sources", "regions", "ties"))
    version = doc.string("version")
    if len(version) > MAX_VERSION_LENGTH:
        raise doc.error(
            "version", f"must be at most {MAX_VERSION_LENGTH} characters, got {len(version)}"
        )
    if "\x00" in version:
        raise doc.error("version", "must not contain the NUL character (\\u0000)")
    adopted = _date(doc, "adopted")
    sources = _read_sources(doc)
    regions = [
        _read_region(rec, taxonomy, sources)
        for rec in doc.records("regions", key="id", label="region")
    ]
    by_id = {r.id: r for r in regions}
    for side in SIDES:
        if not any(r.side == side for r in regions):
            raise doc.error("regions", f"needs at least one {side} region")
    official = _check_relations(regions, by_id, origin, adopted)
    ties = official + [_read_tie(rec, by_id, sources) for rec in _tie_records(doc)]
    return Dataset(
        version=version,
        title=doc.string("title"),
        description=doc.optional_string("description") or "",
        taxonomy=taxonomy,
        regions=tuple(regions),
        ties=tuple(ties),
        sources=sources,
        adopted=adopted,
    )


def _date(rec: RecordReader, name: str) -> datetime.date:
    """An ISO date field (YYYY-MM-DD)."""
    value = rec.obj.get(name)
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    if name not in rec.obj:
        raise rec.error(name, "is required (an ISO date YYYY-MM-DD)")
    raise rec.error(name, f"must be an ISO date YYYY-MM-DD, got {value!r}")


def _tie_records(doc: RecordReader) -> list[RecordReader]:
    items = doc.obj.get("ties") or []
    if not isinstance(items, list):
        raise doc.error("ties", "must be a list")
    return [
        RecordReader(item, origin=doc.origin, record=f"ties[{i}]") for i, item in enumerate(items)
    ]


def _read_sources(doc: RecordReader) -> dict[str, Source]:
    table = doc.child("sources")
    sources: dict[str, Source] = {}
    for key in table.obj:
        rec = table.child(key)
        rec.check_keys(("title", "kind", "url", "published", "repository", "commit", "path"))
        sources[key] = Source(
            id=key,
            title=rec.string("title"),
            kind=rec.string("kind"),
            url=rec.optional_string("url"),
            published=rec.optional_string("published"),
            repository=rec.optional_string("repository"),
            commit=rec.optional_string("commit"),
            path=rec.optional_string("path"),
        )
    return sources


def _read_sourced(rec: RecordReader, name: str, sources: dict[str, Source]) -> Sourced:
    item = rec.child(name)
    item.check_keys(("value", "kind", "source", "note", "measure", "range"))
    value = item.number("value", minimum=0.0, maximum=1.0)
    kind = item.choice("kind", VALUE_KINDS) if "kind" in item.obj else "estimate"
    measure: Measure | None = None
    bounds: tuple[float, float] | None = None
    if kind == "estimate":
        if item.has("measure"):
            raise item.error("measure", "an estimate has a range, not a measure")
        if item.has("range"):
            bounds = _read_range(item, value)
    else:
        if item.has("range"):
            raise item.error("range", f"a {kind} value has a measure, not a range")
        measure = _read_measure(item.child("measure"))
    return Sourced(
        value=value,
        source=_source_ref(item, sources),
        note=item.string("note"),
        kind=kind,
        measure=measure,
        range=bounds,
    )


def _read_range(item: RecordReader, value: float) -> tuple[float, float]:
    raw = item.obj["range"]
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in raw)
    ):
        raise item.error("range", f"must be [lo, hi] with two numbers, got {raw!r}")
    lo, hi = float(raw[0]), float(raw[1])
    if not 0.0 <= lo <= value <= hi <= 1.0:
        raise item.error(
            "range", f"must satisfy 0 <= lo <= value ({value:g}) <= hi <= 1, got {raw!r}"
        )
    return lo, hi


def _read_measure(rec: RecordReader) -> Measure:
    rec.check_keys(_MEASURE_FIELDS)
    figures_rec = rec.child("figures")
    figures = {key: figures_rec.number(key) for key in figures_rec.obj}
    return Measure(
        statistic=rec.string("statistic"),
        reference=rec.string("reference"),
        ratio=rec.number("ratio", minimum=0.0),
        transform=rec.string("transform"),
        year=rec.integer("year"),
        table=rec.string("table"),
        figures=figures,
        denominator=rec.optional_string("denominator"),
        rule=rec.optional_string("rule"),
    )


def _source_ref(rec: RecordReader, sources: dict[str, Source]) -> str:
    ref = rec.string("source")
    if ref not in sources:
        raise rec.error("source", f"unknown source {ref!r}; define it under 'sources'")
    return ref


def _read_region(rec: RecordReader, taxonomy: Taxonomy, sources: dict[str, Source]) -> Region:
    rec.check_keys(_REGION_FIELDS)
    indicators_rec = rec.child("indicators")
    indicators: dict[str, Indicator] = {}
    for name in INDICATOR_IDS:
        item = indicators_rec.child(name)
        item.check_keys(("value", "unit", "year", "source", "note"))
        indicators[name] = Indicator(
            value=item.number("value", minimum=0.0, exclusive_minimum=True),
            unit=item.string("unit"),
            year=item.integer("year"),
            source=_source_ref(item, sources),
            note=item.string("note"),
        )
    indicators_rec.check_keys(INDICATOR_IDS)
    factors_rec = rec.child("factors")
    factors_rec.check_keys(FACTOR_IDS)
    factors = {name: _read_sourced(factors_rec, name, sources) for name in FACTOR_IDS}
    profile: dict[str, dict[str, Sourced]] = {}
    for kind in ("strengths", "needs"):
        table = rec.child(kind)
        unknown = sorted(set(table.obj) - set(taxonomy.sector_ids))
        if unknown:
            raise table.error(unknown[0], "unknown sector; see GET /taxonomy for the sector ids")
        profile[kind] = {sector: _read_sourced(table, sector, sources) for sector in table.obj}
    parent = rec.obj.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise rec.error("parent", f"must be a region id or null, got {parent!r}")
    return Region(
        id=rec.identifier("id"),
        name_en=rec.string("name_en"),
        name_zh=rec.string("name_zh"),
        side=rec.choice("side", SIDES),
        level=rec.choice("level", LEVELS),
        parent=parent,
        counterparts=tuple(rec.string_list("counterparts")),
        indicators=indicators,
        factors=factors,
        strengths=profile["strengths"],
        needs=profile["needs"],
    )


def _check_relations(
    regions: list[Region],
    by_id: dict[str, Region],
    origin: str,
    adopted: datetime.date,
) -> list[Tie]:
    """Check parents and counterparts; return the official ties the counterparts define."""
    official: list[Tie] = []
    for region in regions:
        record = f"region[{region.id}]"
        if region.parent is not None:
            parent = by_id.get(region.parent)
            if parent is None:
                raise DatasetError(origin, record, "parent", f"no region with id {region.parent!r}")
            if parent.side != region.side or parent.level != "province":
                raise DatasetError(
                    origin,
                    record,
                    "parent",
                    f"{region.parent!r} must be a province on the {region.side} side",
                )
        for other_id in region.counterparts:
            other = by_id.get(other_id)
            if other is None:
                raise DatasetError(
                    origin, record, "counterparts", f"no region with id {other_id!r}"
                )
            if other.side == region.side:
                raise DatasetError(
                    origin,
                    record,
                    "counterparts",
                    f"{other_id!r} is on the same side ({region.side}); a counterpart is on the "
                    "other side",
                )
            if region.id not in other.counterparts:
                raise DatasetError(
                    origin,
                    record,
                    "counterparts",
                    f"{other_id!r} does not list {region.id!r} back as its counterpart",
                )
            if region.side == "northeast":
                official.append(
                    Tie(
                        northeast=region.id,
                        east=other_id,
                        kind="official",
                        strength=OFFICIAL_TIE_STRENGTH,
                        description="official counterpart pairing",
                        note="In force from the plan's adoption.",
                        start=adopted,
                    )
                )
    return official


def _read_tie(rec: RecordReader, by_id: dict[str, Region], sources: dict[str, Source]) -> Tie:
    rec.check_keys(_TIE_FIELDS)
    ends: dict[str, str] = {}
    for side in SIDES:
        region_id = rec.string(side)
        region = by_id.get(region_id)
        if region is None:
            raise rec.error(side, f"no region with id {region_id!r}")
        if region.side != side:
            raise rec.error(side, f"{region_id!r} is a {region.side} region, not {side}")
        ends[side] = region_id
    kinds = tuple(k for k in TIE_KINDS if k != "official")
    kind = rec.obj.get("kind")
    if kind == "official":
        raise rec.error(
            "kind", "official ties come from the regions' 'counterparts'; list them there"
        )
    return Tie(
        northeast=ends["northeast"],
        east=ends["east"],
        kind=rec.choice("kind", kinds),
        strength=rec.number("strength", minimum=0.0, maximum=1.0),
        description=rec.string("description"),
        source=_source_ref(rec, sources),
        note=rec.optional_string("note"),
        start=_date(rec, "start"),
    )


def dataset_document(path: str | Path | None = None) -> Any:
    """The JSON document of a dataset file (not yet validated); the shipped one without a path."""
    return read_document(path, "regions.json", "dataset")[0]


def load_dataset(path: str | Path | None = None, *, taxonomy: Taxonomy | None = None) -> Dataset:
    """Load and validate a dataset file; without a path, the one shipped with the package."""
    obj, origin = read_document(path, "regions.json", "dataset")
    return parse_dataset(obj, taxonomy=taxonomy or load_taxonomy(), origin=origin)
