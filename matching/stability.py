"""How stable the suggestions are under the dataset's stated uncertainty.

Every estimated profile value carries a range (`Sourced.range`); measured and derived values are
taken as they are. `suggestion_stability` draws every estimate uniformly within its range, many
times, rescores the network and asks, for each region, how often its top-k suggestions are the
same set as on the dataset as published, and how often its best suggestion is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from matching._types import FloatArray
from matching._validate import check_count
from matching.dataset import Dataset
from matching.network import Network, Side, network_from_dataset
from matching.scoring import Weights, score_components
from matching.suggest import suggest_partners
from matching.taxonomy import FACTOR_IDS

__all__ = ["RegionStability", "suggestion_stability"]


@dataclass(frozen=True)
class RegionStability:
    """For one region: its published top-k partners and how often draws keep them."""

    region: str
    top: tuple[str, ...]
    same_set: float
    same_best: float


def _ranges(dataset: Dataset, network: Network, side: str) -> dict[str, tuple[FloatArray, ...]]:
    """Per matrix of a side: a mask of estimated cells and their low and high ends."""
    tax = network.taxonomy
    rows = network.side(side)
    out: dict[str, tuple[FloatArray, ...]] = {}
    for kind, columns in (
        ("strengths", tax.sector_index),
        ("needs", tax.sector_index),
        ("factors", {f: i for i, f in enumerate(FACTOR_IDS)}),
    ):
        base = getattr(rows, kind)
        low, high = base.copy(), base.copy()
        for region in dataset.regions:
            if region.side != side:
                continue
            row = rows.index[region.id]
            for key, item in getattr(region, kind).items():
                if item.kind == "estimate" and item.range is not None:
                    low[row, columns[key]], high[row, columns[key]] = item.range
        out[kind] = (low, high)
    return out


def _drawn(
    side: Side, ranges: Mapping[str, tuple[FloatArray, ...]], rng: np.random.Generator
) -> Side:
    arrays = {kind: rng.uniform(low, high) for kind, (low, high) in ranges.items()}
    return Side(side.ids, side.levels, arrays["strengths"], arrays["needs"], arrays["factors"])


def suggestion_stability(
    dataset: Dataset,
    *,
    k: int = 3,
    draws: int = 200,
    seed: int = 0,
    weights: Mapping[str, float] | None = None,
) -> list[RegionStability]:
    """For every region, how often its top-k suggestions survive the estimates' uncertainty.

    Parameters
    ----------
    dataset : Dataset
        Its estimates are drawn uniformly within their stated ranges; measured and derived values
        stay as published.
    k : int
        Suggestions per region.
    draws : int
        Perturbed datasets drawn.
    seed : int
        Seed of the draws (the result is deterministic for a seed).
    weights : mapping, optional
        Weight changes from the taxonomy's defaults.

    Returns
    -------
    list of RegionStability
        In dataset order: the published top-k, the share of draws with the same top-k set, and
        the share with the same best partner.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> found = suggestion_stability(load_dataset(), k=3, draws=5)
    >>> [r.region for r in found][:2], 0 <= found[0].same_set <= 1
    (['liaoning', 'jilin'], True)
    """
    k = check_count("k", k, minimum=1)
    draws = check_count("draws", draws, minimum=1)
    network = network_from_dataset(dataset)
    resolved = Weights.resolve(network.taxonomy, weights)
    region_ids = [r.id for r in dataset.regions]

    def tops(net: Network) -> dict[str, list[str]]:
        scores = score_components(net).combine(resolved)
        out = {}
        for region in region_ids:
            side, _ = net.locate(region)
            partners = net.east if side == "northeast" else net.northeast
            picks = suggest_partners(net, scores, region=region, k=k)
            out[region] = [partners.ids[p.partner] for p in picks]
        return out

    published = tops(network)
    ranges = {side: _ranges(dataset, network, side) for side in ("northeast", "east")}
    rng = np.random.default_rng(seed)
    same_set = dict.fromkeys(region_ids, 0)
    same_best = dict.fromkeys(region_ids, 0)
    for _ in range(draws):
        drawn = Network(
            network.taxonomy,
            _drawn(network.northeast, ranges["northeast"], rng),
            _drawn(network.east, ranges["east"], rng),
            network.ties,
            network.existing,
        )
        for region, top in tops(drawn).items():
            same_set[region] += set(top) == set(published[region])
            same_best[region] += top[:1] == published[region][:1]
    return [
        RegionStability(
            region=region,
            top=tuple(published[region]),
            same_set=same_set[region] / draws,
            same_best=same_best[region] / draws,
        )
        for region in region_ids
    ]
