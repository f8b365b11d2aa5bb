"""Batch partner search: the top partners of many enterprises of one side, from one index."""

from __future__ import annotations

from collections.abc import Iterator

from app.services.enterprise_index import EnterpriseIndex
from matching import find_partners

__all__ = ["top_partners"]


def top_partners(
    index: EnterpriseIndex, side: str, start: int, stop: int, *, k: int
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """For each base row `start..stop` of `side` still current: its id and its k best partners.

    Partners are (id, score), best first, exactly as a partner search finds them.
    """
    pool = index.sides[side]
    partners = index.sides["east" if side == "northeast" else "northeast"]
    model = index.model
    for row in range(start, stop):
        if pool.removed[row]:
            continue
        query = pool.base.profile(row, model.network)
        found = find_partners(model, partners, query, k=k, explain=False)
        yield query.id, [(match.id, match.score) for match in found]
