"""The dataset: regions with their profiles and provenance, and the ties that already exist.

A dataset is a JSON document (the shipped one is ``matching/data/regions.json``). It is validated
whole on load; the first problem found is raised as a `DatasetError` naming the file, the record
and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matching._records import RecordReader, read_document
from matching.errors import DatasetError
from matching.taxonomy import FACTOR_IDS, Taxonomy, load_taxonomy

__all__ = [
    "INDICATOR_IDS",
    "LEVELS",
    "SIDES",
    "TIE_KINDS",
    "Dataset",
    "Indicator",
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
#: Strength of an official pairing: the strongest tie there is.
OFFICIAL_TIE_STRENGTH = 1.0


@dataclass(frozen=True)
class Source:
    """Where values come from: a policy, an article, a statistical communiqué, an estimate."""

    id: str
    title: str
    kind: str
    url: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Sourced:
    """A value in [0, 1] with its provenance."""

    value: float
    source: str
    note: str


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
    """An existing tie between a northeast and an eastern region."""

    northeast: str
    east: str
    kind: str
    strength: float
    description: str
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
_TIE_FIELDS = ("northeast", "east", "kind", "strength", "description", "source", "note")


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
    doc.check_keys(("version", "title", "description", "sources", "regions", "ties"))
    version = doc.string("version")
    sources = _read_sources(doc)
    regions = [
        _read_region(rec, taxonomy, sources)
        for rec in doc.records("regions", key="id", label="region")
    ]
    by_id = {r.id: r for r in regions}
    for side in SIDES:
        if not any(r.side == side for r in regions):
            raise doc.error("regions", f"needs at least one {side} region")
    official = _check_relations(regions, by_id, origin)
    ties = official + [_read_tie(rec, by_id, sources) for rec in _tie_records(doc)]
    return Dataset(
        version=version,
        title=doc.string("title"),
        description=doc.optional_string("description") or "",
        taxonomy=taxonomy,
        regions=tuple(regions),
        ties=tuple(ties),
        sources=sources,
    )


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
        rec.check_keys(("title", "kind", "url", "published"))
        sources[key] = Source(
            id=key,
            title=rec.string("title"),
            kind=rec.string("kind"),
            url=rec.optional_string("url"),
            published=rec.optional_string("published"),
        )
    return sources


def _read_sourced(rec: RecordReader, name: str, sources: dict[str, Source]) -> Sourced:
    item = rec.child(name)
    item.check_keys(("value", "source", "note"))
    return Sourced(
        value=item.number("value", minimum=0.0, maximum=1.0),
        source=_source_ref(item, sources),
        note=item.string("note"),
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


def _check_relations(regions: list[Region], by_id: dict[str, Region], origin: str) -> list[Tie]:
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
    )


def dataset_document(path: str | Path | None = None) -> Any:
    """The JSON document of a dataset file (not yet validated); the shipped one without a path."""
    return read_document(path, "regions.json", "dataset")[0]


def load_dataset(path: str | Path | None = None, *, taxonomy: Taxonomy | None = None) -> Dataset:
    """Load and validate a dataset file; without a path, the one shipped with the package."""
    obj, origin = read_document(path, "regions.json", "dataset")
    return parse_dataset(obj, taxonomy=taxonomy or load_taxonomy(), origin=origin)
