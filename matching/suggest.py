"""Ranking links and suggesting additional partners, one region at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching._types import BoolArray, FloatArray, IntArray
from matching._validate import check_choice, check_count
from matching.dataset import LEVELS
from matching.network import Network

__all__ = ["Suggestion", "rank_links", "suggest_all", "suggest_partners", "top_indices"]


@dataclass(frozen=True)
class Suggestion:
    """A suggested partner: its side's row or column index and the value it was ranked by."""

    partner: int
    value: float


def top_indices(values: FloatArray, k: int) -> IntArray:
    """Indices of the `k` largest of a 1-d array, largest first; ties keep index order.

    Examples
    --------
    >>> top_indices(np.array([0.2, 0.9, 0.2, 0.5]), 3).tolist()
    [1, 3, 0]
    """
    if k >= len(values):
        return np.argsort(-values, kind="stable")
    # argpartition finds the k-th largest in linear time; everything tied with it is then taken
    # along so that the stable sort can break ties by index.
    kth = np.partition(-values, k - 1)[k - 1]
    pool = np.flatnonzero(-values <= kth)
    return pool[np.argsort(-values[pool], kind="stable")][:k]


def rank_links(
    values: FloatArray,
    *,
    include: BoolArray | None = None,
    limit: int | None = None,
) -> tuple[IntArray, IntArray]:
    """Rows and columns of the pairs, best value first (ties in row-major order).

    Examples
    --------
    >>> rows, cols = rank_links(np.array([[0.1, 0.4], [0.3, 0.0]]), limit=2)
    >>> list(zip(rows.tolist(), cols.tolist()))
    [(0, 1), (1, 0)]
    """
    flat = values.ravel()
    candidates = np.arange(flat.size) if include is None else np.flatnonzero(include.ravel())
    k = len(candidates) if limit is None else min(limit, len(candidates))
    if k == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    order = candidates[top_indices(flat[candidates], k)]
    rows, cols = np.divmod(order, values.shape[1])
    return rows.astype(np.int64), cols.astype(np.int64)


def suggest_partners(
    network: Network,
    values: FloatArray,
    *,
    region: str,
    k: int = 5,
    level: str | None = None,
) -> list[Suggestion]:
    """The `k` best additional partners of `region` on the other side, by `values`.

    `values` is a (northeast x east) matrix: the scores, or one channel's contributions to rank
    on that channel. Existing ties are never suggested, nor partners whose value is not positive.

    Raises
    ------
    UnknownRegionError
        If the network has no region `region`.
    ValueError
        For a `k` or `level` that is not valid.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> from matching.network import network_from_dataset
    >>> from matching.scoring import Weights, score_components
    >>> net = network_from_dataset(load_dataset())
    >>> scores = score_components(net).combine(Weights.resolve(net.taxonomy))
    >>> picks = suggest_partners(net, scores, region="harbin", k=3)
    >>> len(picks), "shenzhen" in [net.east.ids[s.partner] for s in picks]
    (3, False)
    """
    k = check_count("k", k, minimum=1)
    if level is not None:
        check_choice("level", level, LEVELS)
    side, index = network.locate(region)
    if side == "northeast":
        row, existing, partners = values[index], network.existing[index], network.east
    else:
        row, existing, partners = values[:, index], network.existing[:, index], network.northeast
    keep = ~existing & (row > 0)
    if level is not None:
        keep &= partners.level_codes == LEVELS.index(level)
    candidates = np.flatnonzero(keep)
    picked = candidates[top_indices(row[candidates], min(k, len(candidates)))]
    return [Suggestion(int(p), float(row[p])) for p in picked]


def suggest_all(network: Network, values: FloatArray, *, k: int = 5) -> dict[str, list[Suggestion]]:
    """`suggest_partners` of every region, both sides, in dataset order, all at once.

    The same suggestions, value for value, as one call per region: each region's partners by
    value, ties in index order, existing ties and values not positive left out. A scenario
    explains every region's suggestions, and a call per region was mostly the calls' overhead.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> from matching.network import network_from_dataset
    >>> from matching.scoring import Weights, score_components
    >>> net = network_from_dataset(load_dataset())
    >>> scores = score_components(net).combine(Weights.resolve(net.taxonomy))
    >>> every = suggest_all(net, scores, k=3)
    >>> every["harbin"] == suggest_partners(net, scores, region="harbin", k=3)
    True
    """
    k = check_count("k", k, minimum=1)
    out: dict[str, list[Suggestion]] = {}
    for side, rows, existing in (
        (network.northeast, values, network.existing),
        (network.east, values.T, network.existing.T),
    ):
        keep = ~existing & (rows > 0)
        # Each row's partners by value, ties by index (a stable sort of the negated values),
        # those left out sorted last: the first min(k, kept) of each row are its suggestions.
        order = np.argsort(np.where(keep, -rows, np.inf), axis=1, kind="stable")[:, :k]
        picked = np.take_along_axis(rows, order, axis=1).tolist()
        counts = np.minimum(np.count_nonzero(keep, axis=1), k).tolist()
        for region, partners, found, count in zip(
            side.ids, order.tolist(), picked, counts, strict=True
        ):
            out[region] = [Suggestion(p, v) for p, v in zip(partners[:count], found, strict=False)]
    return out
