"""Batch partner search: the top partners of many enterprises of one side, from one index."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator

from app.services.enterprise_index import EnterpriseIndex
from matching import find_partners

__all__ = ["CSV_HEADER", "PARTITION", "malloc_trim_threshold", "partner_lines", "top_partners"]

#: The first line of a batch's CSV file; `partner_lines` writes the rest.
CSV_HEADER = "enterprise,rank,partner,score\n"
#: Enterprises per task of a batch on a cluster: a few seconds of work against a million
#: partners, and many more tasks than workers, so that a slow worker does not hold others back.
PARTITION = 2_000


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


def partner_lines(
    index: EnterpriseIndex, side: str, start: int, stop: int, *, k: int
) -> tuple[int, str]:
    """How many enterprises `top_partners` finds over rows `start..stop`, and their CSV lines.

    The lines are `enterprise,rank,partner,score`, a line per partner. Every batch, local or on a
    cluster, writes its file from these, so the bytes do not depend on where a part was computed.
    """
    out = io.StringIO(newline="")
    rows = csv.writer(out, lineterminator="\n")
    enterprises = 0
    for ident, found in top_partners(index, side, start, stop, k=k):
        for rank, (partner, score) in enumerate(found, start=1):
            rows.writerow((ident, rank, partner, f"{score:.12g}"))
        enterprises += 1
    return enterprises, out.getvalue()


def malloc_trim_threshold() -> str | None:
    """The process's `MALLOC_TRIM_THRESHOLD_`, which dask's nanny sets in every worker it starts.

    Setting it also fixes glibc's mmap threshold, so that every score array of a search (a float
    per partner) is mapped and unmapped again: a batch then takes about twice the CPU.
    """
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")
