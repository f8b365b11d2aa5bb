"""The batch partner search on a Dask cluster: the same lines as a local batch, in the same order.

Only a batch given a scheduler imports this module, so nothing else needs dask or loads it.
Workers must run this package's code (the same version): a task calls `partner_lines` there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dask.typing import Key
from distributed import Client, as_completed

from app.services.batch import PARTITION, malloc_trim_threshold, partner_lines
from app.services.enterprise_index import EnterpriseIndex

__all__ = ["CONNECT_TIMEOUT", "ClusterUnavailable", "cluster_partner_lines"]

#: Seconds to reach the scheduler, and then to see a worker joined to it.
CONNECT_TIMEOUT = 30.0


class ClusterUnavailable(Exception):
    """The scheduler cannot be reached, or no worker joined it in time."""


def cluster_partner_lines(
    index: EnterpriseIndex,
    side: str,
    *,
    k: int,
    scheduler: str,
    partition: int = PARTITION,
    timeout: float | None = None,
    warn: Callable[[str], None] | None = None,
) -> Iterator[tuple[int, str]]:
    """`partner_lines` of `side`'s base rows, `partition` rows at a time, computed on a cluster.

    The parts come back in row order, so that their concatenation is the file a local batch
    writes. The index goes to every worker once (scattered to all of them); a task carries only
    its rows' bounds. Tasks are handed out a few per worker thread at a time, and a part that
    finishes before an earlier one waits for it, so at most that many parts are held.

    `warn` is told when workers run with dask's `MALLOC_TRIM_THRESHOLD_` (see
    `malloc_trim_threshold`).

    Raises
    ------
    ClusterUnavailable
        If `scheduler` cannot be reached within `timeout` seconds (default `CONNECT_TIMEOUT`),
        or has no worker by then.
    """
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    total = len(index.sides[side].base)
    bounds = [*range(0, total, partition), total]
    parts = len(bounds) - 1
    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    with client:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError as exc:
            raise ClusterUnavailable(
                f"the Dask scheduler at {scheduler} has no worker after {timeout:g} s"
            ) from exc
        if warn is not None:
            thresholds = client.run(malloc_trim_threshold)
            trimming = sum(1 for value in thresholds.values() if value is not None)
            if trimming:
                warn(
                    f"{trimming} of {len(thresholds)} workers run with MALLOC_TRIM_THRESHOLD_ set "
                    "(dask's default), which makes this batch take about twice the CPU; see the "
                    "README, 'Batch on a Dask cluster', to unset it"
                )
        threads = sum(client.nthreads().values())
        limit = 4 * max(threads, 1)
        shared = client.scatter(index, broadcast=True, hash=False)
        running = as_completed(loop=client.loop, with_results=True)
        part_of: dict[Key, int] = {}
        ready: dict[int, tuple[int, str]] = {}
        submitted = following = 0

        def refill() -> None:
            nonlocal submitted
            while submitted < parts and submitted - following < limit:
                start, stop = bounds[submitted], bounds[submitted + 1]
                future = client.submit(partner_lines, shared, side, start, stop, k=k, pure=False)
                part_of[future.key] = submitted
                running.add(future)
                submitted += 1

        refill()
        for future, result in running:
            ready[part_of.pop(future.key)] = result
            while following in ready:
                yield ready.pop(following)
                following += 1
            refill()
