"""The sector taxonomy: channels of cooperation, their sectors, and the four pairing factors.

The taxonomy is the model's vocabulary. Every strength and need in a dataset names a sector; every
sector belongs to exactly one channel; every channel and factor has a documented default weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from matching._records import RecordReader, read_document
from matching.errors import DatasetError

__all__ = [
    "FACTOR_IDS",
    "Channel",
    "Factor",
    "Sector",
    "Taxonomy",
    "load_taxonomy",
    "parse_taxonomy",
]

#: The four factors the plan paired regions on, in the order the engine stores them.
FACTOR_IDS: tuple[str, ...] = (
    "resource_endowment",
    "industrial_base",
    "development_level",
    "cooperation_status",
)

CHANNEL_KINDS = ("docking", "soft")


@dataclass(frozen=True)
class Channel:
    """A channel of cooperation: one of the four dockings or a soft-cooperation channel."""

    id: str
    kind: str
    name_en: str
    name_zh: str
    description: str
    default_weight: float
    synergy: bool = False


@dataclass(frozen=True)
class Sector:
    """A sector of the taxonomy; strengths and needs are given per sector."""

    id: str
    channel: str
    name_en: str
    name_zh: str


@dataclass(frozen=True)
class Factor:
    """One of the four pairing factors, with the formula of its pair term."""

    id: str
    name_en: str
    name_zh: str
    description: str
    formula: str
    default_weight: float


@dataclass(frozen=True)
class Taxonomy:
    """Channels, sectors and factors, in a fixed order that indexes the engine's arrays.

    Examples
    --------
    >>> tax = load_taxonomy()
    >>> tax.channel_ids[:4]
    ('equipment', 'emerging', 'agriculture', 'culture_tourism_health')
    >>> tax.sectors[tax.sector_index["grain"]].channel
    'agriculture'
    """

    version: str
    channels: tuple[Channel, ...]
    sectors: tuple[Sector, ...]
    factors: tuple[Factor, ...]

    @cached_property
    def channel_ids(self) -> tuple[str, ...]:
        """Channel ids in array order."""
        return tuple(c.id for c in self.channels)

    @cached_property
    def sector_ids(self) -> tuple[str, ...]:
        """Sector ids in array order (the columns of strength and need matrices)."""
        return tuple(s.id for s in self.sectors)

    @cached_property
    def factor_ids(self) -> tuple[str, ...]:
        """Factor ids in array order."""
        return tuple(f.id for f in self.factors)

    @cached_property
    def component_ids(self) -> tuple[str, ...]:
        """Everything a score is made of: the channels, then the factors."""
        return self.channel_ids + self.factor_ids

    @cached_property
    def sector_index(self) -> Mapping[str, int]:
        """Sector id to column."""
        return {s: i for i, s in enumerate(self.sector_ids)}

    @cached_property
    def channel_index(self) -> Mapping[str, int]:
        """Channel id to position."""
        return {c: i for i, c in enumerate(self.channel_ids)}

    @cached_property
    def channel_sectors(self) -> Mapping[str, tuple[int, ...]]:
        """Channel id to the columns of its sectors."""
        return {
            c.id: tuple(i for i, s in enumerate(self.sectors) if s.channel == c.id)
            for c in self.channels
        }

    def default_weights(self) -> dict[str, float]:
        """Default weight of every component (channels and factors)."""
        out = {c.id: c.default_weight for c in self.channels}
        out.update({f.id: f.default_weight for f in self.factors})
        return out


def parse_taxonomy(obj: Any, *, origin: str = "<taxonomy>") -> Taxonomy:
    """Validate a taxonomy document and build a `Taxonomy`.

    Raises
    ------
    DatasetError
        Naming the file, the record and the field that is wrong.
    """
    doc = RecordReader(obj, origin=origin, record="taxonomy")
    version = doc.string("version")
    channels: list[Channel] = []
    for rec in doc.records("channels", key="id"):
        channel = Channel(
            id=rec.identifier("id"),
            kind=rec.choice("kind", CHANNEL_KINDS),
            name_en=rec.string("name_en"),
            name_zh=rec.string("name_zh"),
            description=rec.string("description"),
            default_weight=rec.number("default_weight", minimum=0.0),
            synergy=rec.boolean("synergy", default=False),
        )
        channels.append(channel)
    channel_ids = {c.id for c in channels}
    sectors: list[Sector] = []
    for rec in doc.records("sectors", key="id"):
        sectors.append(
            Sector(
                id=rec.identifier("id"),
                channel=rec.choice("channel", tuple(channel_ids)),
                name_en=rec.string("name_en"),
                name_zh=rec.string("name_zh"),
            )
        )
    factors: list[Factor] = []
    for rec in doc.records("factors", key="id"):
        factors.append(
            Factor(
                id=rec.choice("id", FACTOR_IDS),
                name_en=rec.string("name_en"),
                name_zh=rec.string("name_zh"),
                description=rec.string("description"),
                formula=rec.string("formula"),
                default_weight=rec.number("default_weight", minimum=0.0),
            )
        )
    if tuple(f.id for f in factors) != FACTOR_IDS:
        raise DatasetError(origin, "taxonomy", "factors", f"must list exactly {list(FACTOR_IDS)}")
    empty = sorted(channel_ids - {s.channel for s in sectors})
    if empty:
        raise DatasetError(origin, f"channels[{empty[0]}]", "id", "channel has no sectors")
    return Taxonomy(
        version=version, channels=tuple(channels), sectors=tuple(sectors), factors=tuple(factors)
    )


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load a taxonomy file; without a path, the one shipped with the package."""
    obj, origin = read_document(path, "taxonomy.json", "taxonomy")
    return parse_taxonomy(obj, origin=origin)
