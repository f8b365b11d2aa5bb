"""Synthetic enterprise populations for demos, tests and benchmarks.

`generate_enterprises` yields enterprise records (plain dicts with the fields of the API's
enterprise profile) drawn from a dataset's regions. The population is realistic in the ways that
matter to partner search, by these rules:

Region
    Drawn with probability proportional to the region's GDP indicator (`region_shares`). Cities
    are part of their provinces' economies, so a province keeps only its *own* weight: its GDP
    minus the GDP of its cities in the dataset (Liaoning minus Shenyang and Dalian, Jilin minus
    Changchun, Heilongjiang minus Harbin, Guangdong minus Shenzhen; never below 0), and a city
    keeps its whole GDP. Province-level
    municipalities (Beijing, Shanghai, Tianjin) have no parent and keep their GDP. With the
    shipped 2016 figures the east holds 83.9% of the weight and the northeast 16.1%, an
    east:northeast ratio of 5.2:1.
Offers
    1 to 5 sectors (more for larger firms), drawn without replacement with probability
    proportional to the region's strength in the sector plus a floor of 0.02, so that every
    sector can appear but a region's strong sectors are common among its enterprises.
Seeks
    1 to 5 sectors likewise, proportional to the region's needs plus the same floor, never a
    sector the enterprise offers.
Intensities
    Beta-distributed with mean 0.3 + 0.6 v, v the region's strength (for offers) or need (for
    seeks) in the sector (0 off the region's profile), and concentration 8; rounded to two
    decimals and kept in [0.01, 1]. An enterprise in a region strong in a sector tends to be
    strong in it too. Offers and seeks are listed by intensity, the strongest first.
Ownership
    By side: northeast state 18%, private 70%, foreign 5%, mixed 7%; east state 8%, private
    78%, foreign 9%, mixed 5%.
Size
    micro 55%, small 28%, medium 13%, large 4% on each side. State-owned firms are larger
    (micro 25%, small 32%, medium 28%, large 15%); the other ownerships share the rest, so the
    side's overall shares are exactly the ones above.
Founded
    A year in [earliest, 2025] with the firm's age drawn from an exponential distribution
    truncated to that span, so most firms are young. Mean ages (before truncation): state 28,
    mixed 18, foreign 14, private 9 years, times 0.7, 1, 1.4 or 1.8 for micro, small, medium
    or large firms. Earliest years: 1950 for state and mixed firms (mixed ones are mostly
    restructured state firms), 1979 for foreign ones (the joint-venture law), 1980 for private.

The ownership, size and age figures are plausible assumptions for realistic demos, not
statistics. Ids are a side prefix and a running number per side ("ne0000001", "ea0000001");
names are pseudo-Chinese, ASCII only (region, a two-syllable brand, the strongest offered sector,
then "Co., Ltd.", or "Group Co., Ltd." for large firms); the description is one short sentence
naming the strongest one or two offered and sought sectors; `contact` is None and `partners`
empty.

Records are generated in vectorised blocks of `CHUNK_SIZE`, so memory stays bounded however many
are asked for, and always in whole blocks, so a population is deterministic for a seed and the
first n records do not depend on `count`: a small sample is the head of the large population.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TypedDict

import numpy as np

from matching._types import Float32Array, FloatArray, IntArray
from matching._validate import check_count
from matching.dataset import SIDES, Dataset
from matching.enterprises import OWNERSHIPS, SIZE_BANDS

__all__ = [
    "CHUNK_SIZE",
    "LATEST_FOUNDED",
    "OWNERSHIP_SHARES",
    "SIZE_SHARES",
    "EnterpriseRecord",
    "enterprises_per_side",
    "generate_enterprises",
    "region_shares",
]

#: Records drawn per vectorised block.
CHUNK_SIZE = 10_000
#: The latest founding year drawn.
LATEST_FOUNDED = 2025
#: Size bands' shares on each side (plausible assumptions, not statistics).
SIZE_SHARES: Mapping[str, float] = {"micro": 0.55, "small": 0.28, "medium": 0.13, "large": 0.04}
#: Ownerships' shares by side (plausible assumptions, not statistics).
OWNERSHIP_SHARES: Mapping[str, Mapping[str, float]] = {
    "northeast": {"state": 0.18, "private": 0.70, "foreign": 0.05, "mixed": 0.07},
    "east": {"state": 0.08, "private": 0.78, "foreign": 0.09, "mixed": 0.05},
}
_PREFIXES = {"northeast": "ne", "east": "ea"}
_STATE_SIZE_SHARES = (0.25, 0.32, 0.28, 0.15)
_MEAN_AGE = {"state": 28.0, "private": 9.0, "foreign": 14.0, "mixed": 18.0}
_EARLIEST_FOUNDED = {"state": 1950, "private": 1980, "foreign": 1979, "mixed": 1950}
_AGE_BY_SIZE = (0.7, 1.0, 1.4, 1.8)
#: Chance of each sector beyond the first, by size band: 1 + Binomial(4, p) sectors.
_EXTRA_SECTOR_ODDS = (0.15, 0.3, 0.45, 0.6)
_MOST_SECTORS = 5
_SECTOR_FLOOR = 0.02
_INTENSITY_BASE, _INTENSITY_SLOPE, _INTENSITY_CONCENTRATION = 0.3, 0.6, 8.0
_SYLLABLES = (
    "an bao chang cheng da de ding feng fu guang hai heng hong hua hui jia jin jun kai kang "
    "long ming qi rong rui run sen sheng shun tai tian tong wei xin xing yi yu yuan zhong"
).split()
_SMALL_WORDS = frozenset({"and", "of", "the", "to"})


class EnterpriseRecord(TypedDict):
    """An enterprise record with exactly the fields of the API's enterprise profile."""

    id: str
    name: str
    region: str
    offers: dict[str, float]
    seeks: dict[str, float]
    size: str
    ownership: str
    founded: int
    description: str
    contact: str | None
    partners: list[str]


def region_shares(dataset: Dataset) -> dict[str, float]:
    """Each region's probability of being an enterprise's region: its own share of GDP.

    A province's own GDP is its GDP minus that of its cities in the dataset (never below 0).

    Raises
    ------
    ValueError
        If the regions' GDP indicators have different units or no region has a positive weight.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> shares = region_shares(load_dataset())
    >>> round(sum(shares.values()), 12), round(shares["liaoning"], 3), round(shares["dalian"], 3)
    (1.0, 0.03, 0.021)
    """
    units = sorted({r.indicators["gdp"].unit for r in dataset.regions})
    if len(units) > 1:
        raise ValueError(f"`dataset` GDP indicators must share one unit, got {units}")
    gdp = {r.id: r.indicators["gdp"].value for r in dataset.regions}
    own = dict(gdp)
    for region in dataset.regions:
        if region.parent is not None:
            own[region.parent] -= gdp[region.id]
    weights = {region_id: max(value, 0.0) for region_id, value in own.items()}
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("`dataset` needs a region with a positive own GDP")
    return {region_id: weight / total for region_id, weight in weights.items()}


def _size_table() -> FloatArray:
    """Size-band shares by side and ownership, shape (side, ownership, size).

    State firms follow `_STATE_SIZE_SHARES`; the others share what is left of the side's
    `SIZE_SHARES`, so the side's overall size shares are exact.
    """
    target = np.array([SIZE_SHARES[s] for s in SIZE_BANDS])
    state = np.array(_STATE_SIZE_SHARES)
    table = np.empty((len(SIDES), len(OWNERSHIPS), len(SIZE_BANDS)))
    for i, side in enumerate(SIDES):
        state_share = OWNERSHIP_SHARES[side]["state"]
        others = (target - state_share * state) / (1.0 - state_share)
        for j, ownership in enumerate(OWNERSHIPS):
            table[i, j] = state if ownership == "state" else others
    return table


#: Cumulative ownership shares by side, and size shares by side and ownership.
_OWNERSHIP_CUMULATIVE = np.cumsum(
    [[OWNERSHIP_SHARES[s][o] for o in OWNERSHIPS] for s in SIDES], axis=1
)
_SIZE_CUMULATIVE = np.cumsum(_size_table(), axis=2)


def _title(name: str) -> str:
    """A sector's name for a company name: no parenthesis, words capitalised."""
    words = re.split(r"([ -])", _short(name))
    return "".join(w if w in _SMALL_WORDS else w[:1].upper() + w[1:] for w in words)


def _short(name: str) -> str:
    return name.split(" (")[0]


def _phrase(name: str) -> str:
    """A sector's name inside a sentence: lower case unless it starts with an acronym."""
    short = _short(name)
    return short if short[1:2].isupper() else short[:1].lower() + short[1:]


def _listing(phrases: Sequence[str]) -> str:
    """Join phrases as "a", "a and b" or "a, b and c"; "a, and b" if a phrase has an "and"."""
    if len(phrases) == 1:
        return phrases[0]
    comma = "," if any(" and " in phrase for phrase in phrases) else ""
    return f"{', '.join(phrases[:-1])}{comma} and {phrases[-1]}"


@dataclass(frozen=True, eq=False)
class _Model:
    """The dataset as the arrays the generator draws from and the strings it assembles."""

    region_ids: tuple[str, ...]
    region_shares: FloatArray
    region_side: IntArray
    offer_scales: Float32Array
    seek_scales: Float32Array
    offer_means: FloatArray
    seek_means: FloatArray
    sector_ids: tuple[str, ...]
    most_sectors: int
    #: Name heads by region and brand ("Harbin Jinlong "), tails by sector and size band.
    name_heads: tuple[tuple[str, ...], ...]
    name_tails: tuple[str, ...]
    #: Descriptions' sector lists by `_listing_key`.
    listings: tuple[str, ...]

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> _Model:
        taxonomy = dataset.taxonomy
        n_sectors = len(taxonomy.sectors)
        if n_sectors < 2:
            raise ValueError(
                f"`dataset` taxonomy needs at least 2 sectors to offer and seek, got {n_sectors}"
            )
        shares = region_shares(dataset)
        strengths = np.zeros((len(dataset.regions), n_sectors))
        needs = np.zeros_like(strengths)
        for row, region in enumerate(dataset.regions):
            for sector, item in region.strengths.items():
                strengths[row, taxonomy.sector_index[sector]] = item.value
            for sector, item in region.needs.items():
                needs[row, taxonomy.sector_index[sector]] = item.value
        brands = [a.capitalize() + b for a in _SYLLABLES for b in _SYLLABLES]
        phrases = [_phrase(s.name_en) for s in taxonomy.sectors]
        return cls(
            region_ids=tuple(r.id for r in dataset.regions),
            region_shares=np.array([shares[r.id] for r in dataset.regions]),
            region_side=np.array([SIDES.index(r.side) for r in dataset.regions]),
            offer_scales=(1.0 / (strengths + _SECTOR_FLOOR)).astype(np.float32),
            seek_scales=(1.0 / (needs + _SECTOR_FLOOR)).astype(np.float32),
            offer_means=_INTENSITY_BASE + _INTENSITY_SLOPE * strengths,
            seek_means=_INTENSITY_BASE + _INTENSITY_SLOPE * needs,
            sector_ids=taxonomy.sector_ids,
            # Offers and seeks are disjoint, so each can have at most half the sectors.
            most_sectors=min(_MOST_SECTORS, n_sectors // 2),
            name_heads=tuple(
                tuple(f"{r.name_en} {brand} " for brand in brands) for r in dataset.regions
            ),
            name_tails=tuple(
                f"{_title(s.name_en)} {'Group Co., Ltd.' if size == 'large' else 'Co., Ltd.'}"
                for s in taxonomy.sectors
                for size in SIZE_BANDS
            ),
            listings=tuple(
                _listing([phrases[a]] if b == n_sectors else [phrases[a], phrases[b]])
                for a in range(n_sectors)
                for b in range(n_sectors + 1)
            ),
        )


@dataclass(frozen=True, eq=False)
class _Block:
    """One block of drawn profiles; sector columns and intensities are strongest first."""

    region: IntArray
    side: IntArray
    ownership: IntArray
    size: IntArray
    founded: IntArray
    brand: IntArray
    offer_count: IntArray
    offer_sectors: IntArray
    offer_values: FloatArray
    seek_count: IntArray
    seek_sectors: IntArray
    seek_values: FloatArray


def _draw_categories(rng: np.random.Generator, cumulative: FloatArray) -> IntArray:
    """One category per row of `cumulative` (each row a cumulative distribution)."""
    u = rng.random(len(cumulative))
    codes: IntArray = (u[:, None] >= cumulative[:, :-1]).sum(axis=1, dtype=np.int64)
    return codes


def _draw_founded(rng: np.random.Generator, ownership: IntArray, size: IntArray) -> IntArray:
    mean_age = np.array([_MEAN_AGE[o] for o in OWNERSHIPS])[ownership]
    mean_age = mean_age * np.array(_AGE_BY_SIZE)[size]
    span = LATEST_FOUNDED + 1 - np.array([_EARLIEST_FOUNDED[o] for o in OWNERSHIPS])[ownership]
    # Inverse CDF of an exponential age truncated to [0, span): no pile-up at the earliest year.
    age = -mean_age * np.log1p(-rng.random(len(ownership)) * -np.expm1(-span / mean_age))
    founded: IntArray = LATEST_FOUNDED - np.minimum(np.floor(age).astype(np.int64), span - 1)
    return founded


def _draw_counts(rng: np.random.Generator, size: IntArray, most: int) -> IntArray:
    extra = rng.binomial(most - 1, np.array(_EXTRA_SECTOR_ODDS)[size])
    return 1 + extra.astype(np.int64)


def _draw_sectors(
    rng: np.random.Generator,
    scales: Float32Array,
    most: int,
    excluded: tuple[IntArray, IntArray] | None = None,
) -> IntArray:
    """`most` sectors per row, in the order of a weighted draw without replacement.

    Each sector gets an exponential "arrival time" of rate w (`scales` holds 1 / w); sorting the
    times gives the same ordered sample as drawing one sector at a time in proportion to the
    weights of those left (an exponential race), without a loop over draws. `excluded` (rows,
    columns) never arrive.
    """
    times = rng.standard_exponential(size=scales.shape, dtype=np.float32) * scales
    if excluded is not None:
        times[excluded] = np.inf
    first = np.argpartition(times, most - 1, axis=1)[:, :most]
    order = np.argsort(np.take_along_axis(times, first, axis=1), axis=1)
    return np.take_along_axis(first, order, axis=1)


def _draw_intensities(
    rng: np.random.Generator, means: FloatArray, sectors: IntArray, count: IntArray
) -> tuple[IntArray, FloatArray]:
    """Intensities of the drawn sectors, and both arrays reordered strongest first.

    Columns beyond a row's `count` get intensity 0 and sort last.
    """
    mean = means[np.arange(len(sectors))[:, None], sectors]
    raw = rng.beta(mean * _INTENSITY_CONCENTRATION, (1.0 - mean) * _INTENSITY_CONCENTRATION)
    values = np.clip(np.rint(raw * 100.0), 1.0, 100.0) / 100.0
    values[np.arange(sectors.shape[1]) >= count[:, None]] = 0.0
    order = np.argsort(-values, axis=1, kind="stable")
    return np.take_along_axis(sectors, order, axis=1), np.take_along_axis(values, order, axis=1)


def _draw_block(rng: np.random.Generator, model: _Model, n: int) -> _Block:
    region = rng.choice(len(model.region_ids), size=n, p=model.region_shares).astype(np.int64)
    side = model.region_side[region]
    ownership = _draw_categories(rng, _OWNERSHIP_CUMULATIVE[side])
    size = _draw_categories(rng, _SIZE_CUMULATIVE[side, ownership])
    founded = _draw_founded(rng, ownership, size)

    offer_count = _draw_counts(rng, size, model.most_sectors)
    offer_draw = _draw_sectors(rng, model.offer_scales[region], model.most_sectors)
    offer_sectors, offer_values = _draw_intensities(
        rng, model.offer_means[region], offer_draw, offer_count
    )
    seek_count = _draw_counts(rng, size, model.most_sectors)
    offered = np.arange(model.most_sectors) < offer_count[:, None]
    rows = np.broadcast_to(np.arange(n)[:, None], offered.shape)
    seek_draw = _draw_sectors(
        rng, model.seek_scales[region], model.most_sectors, (rows[offered], offer_draw[offered])
    )
    seek_sectors, seek_values = _draw_intensities(
        rng, model.seek_means[region], seek_draw, seek_count
    )
    return _Block(
        region=region,
        side=side,
        ownership=ownership,
        size=size,
        founded=founded,
        brand=rng.integers(0, len(_SYLLABLES) ** 2, size=n),
        offer_count=offer_count,
        offer_sectors=offer_sectors,
        offer_values=offer_values,
        seek_count=seek_count,
        seek_sectors=seek_sectors,
        seek_values=seek_values,
    )


def generate_enterprises(
    dataset: Dataset, count: int, *, seed: int = 0
) -> Iterator[EnterpriseRecord]:
    """Yield `count` synthetic enterprise records drawn from the dataset's regions.

    Parameters
    ----------
    dataset : Dataset
        Regions (with GDP, strengths and needs) and the taxonomy to draw from.
    count : int
        Number of records.
    seed : int, optional
        Seed of the random generator: the same seed gives the same records, and the first n
        records are the same whatever `count` is.

    Yields
    ------
    EnterpriseRecord
        A dict with the fields of the API's enterprise profile: id, name, region, offers,
        seeks, size, ownership, founded, description, contact (None) and partners (empty).
        The rules are in the module's docstring.

    Raises
    ------
    ValueError
        If `count` or `seed` is not a non-negative integer, the dataset's GDP indicators cannot
        weight its regions (see `region_shares`) or its taxonomy has fewer than 2 sectors.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> records = list(generate_enterprises(load_dataset(), 3, seed=1))
    >>> [r["id"] for r in records]
    ['ea0000001', 'ea0000002', 'ne0000001']
    >>> harbin = records[2]
    >>> harbin["region"], harbin["size"], harbin["ownership"], harbin["founded"]
    ('harbin', 'small', 'state', 2015)
    >>> harbin["offers"], harbin["seeks"]
    ({'northeast_asia_corridor': 0.54}, {'opening_up': 0.72, 'administrative_reform': 0.59})
    >>> harbin["name"]
    'Harbin Longzhong Corridor to Russia, Mongolia and Northeast Asia Co., Ltd.'
    >>> harbin["description"]
    'Offers corridor to Russia, Mongolia and Northeast Asia; seeks opening up, free-trade zones...'
    """
    check_count("count", count)
    check_count("seed", seed)
    model = _Model.from_dataset(dataset)
    return _generate(model, count, np.random.default_rng(seed))


#: Ids have seven digits: at most this many records of one side.
MAX_PER_SIDE = 9_999_999


def enterprises_per_side(
    dataset: Dataset, per_side: int, *, seed: int = 0
) -> dict[str, list[EnterpriseRecord]]:
    """The first `per_side` records of each side that `generate_enterprises` draws.

    A population of a given size on both sides (a round of n + n enterprises, say), whatever
    the sides' shares of the dataset's GDP.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> drawn = enterprises_per_side(load_dataset(), 2, seed=1)
    >>> {side: [r["id"] for r in records] for side, records in drawn.items()}
    {'northeast': ['ne0000001', 'ne0000002'], 'east': ['ea0000001', 'ea0000002']}
    """
    check_count("per_side", per_side)
    if per_side > MAX_PER_SIDE // 100:
        raise ValueError(f"per_side must be at most {MAX_PER_SIDE // 100:,}, got {per_side:,}")
    side = {region.id: region.side for region in dataset.regions}
    chosen: dict[str, list[EnterpriseRecord]] = {"northeast": [], "east": []}
    # Records are drawn lazily, a block at a time: the count is only a bound.
    for record in generate_enterprises(dataset, MAX_PER_SIDE, seed=seed):
        if all(len(records) >= per_side for records in chosen.values()):
            break
        listed = chosen[side[str(record["region"])]]
        if len(listed) < per_side:
            listed.append(record)
    return chosen


def _listing_key(sectors: IntArray, count: IntArray, n_sectors: int) -> IntArray:
    """Index into `_Model.listings` of each row's first one or two sectors."""
    second = np.where(count > 1, sectors[:, min(1, sectors.shape[1] - 1)], n_sectors)
    return sectors[:, 0] * (n_sectors + 1) + second


def _running_numbers(side: IntArray, issued: list[int]) -> list[int]:
    """Each row's number on its side, counting on from `issued` (updated in place)."""
    number = np.empty(len(side), dtype=np.int64)
    for code in range(len(issued)):
        mine = side == code
        count = int(mine.sum())
        number[mine] = np.arange(issued[code] + 1, issued[code] + count + 1)
        issued[code] += count
    return [int(n) for n in number.tolist()]


def _generate(model: _Model, count: int, rng: np.random.Generator) -> Iterator[EnterpriseRecord]:
    # Strings are assembled from per-block lists and lookup tables, so that the Python loop
    # does no more than build each record's dict.
    n_sectors, most, sector_ids = len(model.sector_ids), model.most_sectors, model.sector_ids
    prefixes = [_PREFIXES[side] for side in SIDES]
    issued = [0] * len(SIDES)
    done = 0
    while done < count:
        # Whole blocks only, so that the records drawn do not depend on `count`.
        block = _draw_block(rng, model, CHUNK_SIZE)
        numbers = _running_numbers(block.side, issued)
        ids = [f"{prefixes[s]}{n:07d}" for s, n in zip(block.side.tolist(), numbers, strict=True)]
        # Offered (sought) sectors of all rows, flat: row i's are [ends[i - 1], ends[i]).
        offered = np.arange(most) < block.offer_count[:, None]
        sought = np.arange(most) < block.seek_count[:, None]
        offer_ids = [sector_ids[s] for s in block.offer_sectors[offered].tolist()]
        offer_values = block.offer_values[offered].tolist()
        seek_ids = [sector_ids[s] for s in block.seek_sectors[sought].tolist()]
        seek_values = block.seek_values[sought].tolist()
        rows = zip(
            ids,
            block.region.tolist(),
            block.ownership.tolist(),
            block.size.tolist(),
            block.founded.tolist(),
            block.brand.tolist(),
            (block.offer_sectors[:, 0] * len(SIZE_BANDS) + block.size).tolist(),
            _listing_key(block.offer_sectors, block.offer_count, n_sectors).tolist(),
            _listing_key(block.seek_sectors, block.seek_count, n_sectors).tolist(),
            np.cumsum(block.offer_count).tolist(),
            np.cumsum(block.seek_count).tolist(),
            strict=True,
        )
        take = min(CHUNK_SIZE, count - done)
        done += take
        offer_start = seek_start = 0
        for (
            id_,
            region,
            own,
            size,
            founded,
            brand,
            tail,
            offer_key,
            seek_key,
            offer_end,
            seek_end,
        ) in islice(rows, take):
            yield {
                "id": id_,
                "name": model.name_heads[region][brand] + model.name_tails[tail],
                "region": model.region_ids[region],
                "offers": dict(
                    zip(
                        offer_ids[offer_start:offer_end],
                        offer_values[offer_start:offer_end],
                        strict=True,
                    )
                ),
                "seeks": dict(
                    zip(
                        seek_ids[seek_start:seek_end], seek_values[seek_start:seek_end], strict=True
                    )
                ),
                "size": SIZE_BANDS[size],
                "ownership": OWNERSHIPS[own],
                "founded": founded,
                "description": (
                    f"Offers {model.listings[offer_key]}; seeks {model.listings[seek_key]}."
                ),
                "contact": None,
                "partners": [],
            }
            offer_start, seek_start = offer_end, seek_end
