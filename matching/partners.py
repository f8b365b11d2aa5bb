"""Partner search: the one entry point, from a profile to its best partners, explained.

`find_partners` takes the enterprise model, the partners' side (a `Population`, or a
`PartnerPool`: a population with rows removed since it was built and an overlay of newer
profiles), and a querying profile. It checks the request, builds the query vector, runs the
exact top-k search of `matching.enterprises.search_partners` on the pool, merges and explains.
The service, its index and the batch command all search through it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from matching._types import BoolArray, IntArray
from matching._validate import check_choice, check_count, check_number
from matching.enterprises import (
    OWNERSHIPS,
    SIZE_BANDS,
    Enterprise,
    EnterpriseModel,
    MatchExplanation,
    Population,
    SearchFilters,
    explain_match,
    search_partners,
)

__all__ = ["PartnerFilters", "PartnerMatch", "PartnerPool", "find_partners"]


@dataclass(frozen=True)
class PartnerFilters:
    """Which partners qualify: their regions, ownerships and size bands (ids), and a minimum score.

    None means no restriction.
    """

    regions: Collection[str] | None = None
    ownership: Collection[str] | None = None
    size: Collection[str] | None = None
    min_score: float | None = None


@dataclass(frozen=True, eq=False)
class PartnerPool:
    """One side's searchable enterprises: a base population less `removed` rows, plus `overlay`.

    An index kept in step with writes holds the population it was built from, marks the rows
    changed or deleted since, and adds the newer versions in a small overlay population; a search
    on the pool is a search on the enterprises as they are now.
    """

    base: Population
    removed: BoolArray
    overlay: Population
    #: The rows of `removed`, which the search skips (a short list, not a million flags).
    removed_rows: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def of(cls, population: Population, overlay: Population) -> PartnerPool:
        """A pool of a whole population with an empty overlay of the same side."""
        return cls(population, np.zeros(len(population), dtype=bool), overlay)

    def profile(self, enterprise_id: str, model: EnterpriseModel) -> Enterprise | None:
        """The current profile of an enterprise of this pool, None if it has none."""
        row = self.overlay.row_of(enterprise_id)
        if row is not None:
            return self.overlay.profile(row, model.network)
        row = self.base.row_of(enterprise_id)
        if row is not None and not self.removed[row]:
            return self.base.profile(row, model.network)
        return None


@dataclass(frozen=True)
class PartnerMatch:
    """A partner found: its id and score, and (if asked) the score's explanation."""

    id: str
    score: float
    explanation: MatchExplanation | None = None


def _codes(
    name: str, values: Collection[str] | None, options: tuple[str, ...]
) -> frozenset[int] | None:
    if values is None:
        return None
    return frozenset(options.index(check_choice(name, v, options)) for v in values)


def _search_filters(
    model: EnterpriseModel, partner_side: str, filters: PartnerFilters
) -> SearchFilters:
    """The filters in the population's codes, each id checked."""
    regions = None
    if filters.regions is not None:
        rows = set()
        for region in filters.regions:
            where, row = model.network.locate(region, field="region")
            if where != partner_side:
                raise ValueError(
                    f"`region` must be a region of the partners' side ({partner_side}), "
                    f"got {region!r}"
                )
            rows.add(row)
        regions = frozenset(rows)
    min_score = None
    if filters.min_score is not None:
        min_score = check_number("min_score", filters.min_score, minimum=0.0)
    return SearchFilters(
        regions=regions,
        ownership=_codes("ownership", filters.ownership, OWNERSHIPS),
        size=_codes("size", filters.size, SIZE_BANDS),
        min_score=min_score,
    )


def find_partners(
    model: EnterpriseModel,
    population: Population | PartnerPool,
    query: Enterprise,
    *,
    k: int,
    channel: str | None = None,
    filters: PartnerFilters | None = None,
    explain: bool = True,
) -> list[PartnerMatch]:
    """The `k` best partners of `query` on the other side, exactly, best first.

    Parameters
    ----------
    model : EnterpriseModel
        Sector weights and the region multipliers.
    population : Population or PartnerPool
        The partners' side (the side opposite the query's region).
    query : Enterprise
        The profile searched for; its region decides its side. It need not be registered.
    k : int
        How many partners (at most); only partners scoring above zero are returned.
    channel : str, optional
        Rank on this channel alone: only the query's sectors of the channel count, the region
        link does not, and the explanation keeps that channel's part.
    filters : PartnerFilters, optional
        Partner regions, ownerships, sizes and a minimum score.
    explain : bool
        Attach each partner's explanation (contributions and sector terms adding up to it).

    Returns
    -------
    list of PartnerMatch
        Best first; equal scores in id order. The same answer as scoring every enterprise.

    Raises
    ------
    UnknownRegionError
        If the query's region, or a filter's, is not in the model's network.
    ValueError
        For a bad `k`, `channel` or filter, naming it, or a population of the query's own side.

    Examples
    --------
    >>> from matching import load_dataset, network_from_dataset, score_components, Weights
    >>> from matching.enterprises import build_population
    >>> net = network_from_dataset(load_dataset())
    >>> model = EnterpriseModel.build(net, score_components(net), Weights.resolve(net.taxonomy))
    >>> east = build_population(
    ...     [Enterprise("x", "shanghai", {}, {"grain": 0.2}), Enterprise("y", "tianjin", {}, {})],
    ...     net,
    ...     "east",
    ... )
    >>> found = find_partners(model, east, Enterprise("q", "harbin", {"grain": 1.0}, {}), k=5)
    >>> [(m.id, sorted(m.explanation.contributions)) for m in found]
    [('x', ['agriculture', 'region'])]
    >>> find_partners(model, east, Enterprise("q", "harbin", {}, {}), k=0)
    Traceback (most recent call last):
    ...
    ValueError: `k` must be a positive integer, got 0
    """
    k = check_count("k", k, minimum=1)
    network = model.network
    side, row = network.locate(query.region, field="region")
    partner_side = "east" if side == "northeast" else "northeast"
    pool = population if isinstance(population, PartnerPool) else None
    base = population.base if isinstance(population, PartnerPool) else population
    if base.side != partner_side:
        raise ValueError(
            f"`population` must be the {partner_side} side for a {side} query, got {base.side}"
        )
    if channel is not None:
        check_choice("channel", channel, model.taxonomy.channel_ids)
    search = _search_filters(model, partner_side, filters or PartnerFilters())
    features, coefficients = model.query(query, channel=channel)
    multiplier = model.multiplier[row] if side == "northeast" else model.multiplier[:, row]
    if channel is not None:
        multiplier = np.ones_like(multiplier)
    found = [
        (base.ids[m.row].decode(), m.score, base, m.row)
        for m in search_partners(
            base,
            features,
            coefficients,
            multiplier,
            k=k,
            filters=search,
            removed=None if pool is None else pool.removed_rows,
        )
    ]
    if pool is not None and len(pool.overlay):
        found += [
            (pool.overlay.ids[m.row].decode(), m.score, pool.overlay, m.row)
            for m in search_partners(
                pool.overlay, features, coefficients, multiplier, k=k, filters=search
            )
        ]
        found.sort(key=lambda item: (-item[1], item[0]))
    matches = []
    for ident, score, holder, found_row in found[:k]:
        explanation = None
        if explain:
            partner = holder.profile(found_row, network)
            pair = (query, partner) if side == "northeast" else (partner, query)
            explanation = explain_match(model, *pair, channel=channel)
        matches.append(PartnerMatch(ident, score, explanation))
    return matches
