"""Time slots of a matchmaking round: no enterprise is in two meetings of one slot.

A bipartite graph of maximum degree D can always be edge-coloured with D colours (König): we
colour edge by edge, and when the two ends have no common free colour, swapping two colours along
an alternating path frees one at both ends.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from matching._types import IntArray

__all__ = ["assign_slots"]


def assign_slots(rows: ArrayLike, cols: ArrayLike) -> IntArray:
    """Time slots for meetings so that no enterprise is in two meetings of one slot.

    An edge colouring of the bipartite graph of meetings with as many colours as the largest
    degree, which is the fewest possible (König's theorem). Each meeting in turn takes a colour
    free at both ends; when there is none, the two colours free at either end are swapped along
    the alternating path that starts at one end, which cannot reach the other end.

    Parameters
    ----------
    rows, cols : array_like of int
        The meetings' two ends (northeast and eastern indices), one entry per meeting.

    Returns
    -------
    ndarray of int64
        Each meeting's slot, from 0: the largest slots first, then in order of their first meeting.

    Raises
    ------
    ValueError
        If `rows` and `cols` are not 1-d arrays of non-negative integers of the same length.

    Examples
    --------
    >>> assign_slots([0, 0, 1, 1], [0, 1, 0, 1]).tolist()
    [0, 1, 1, 0]
    """
    left, right = np.asarray(rows), np.asarray(cols)
    for name, values in (("rows", left), ("cols", right)):
        if values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
            raise ValueError(f"`{name}` must be a 1-d array of integers, got {values!r}")
        if values.size and values.min() < 0:
            raise ValueError(f"`{name}` must be non-negative, got {int(values.min())}")
    if len(left) != len(right):
        raise ValueError(
            f"`rows` and `cols` must have the same length, got {len(left)} and {len(right)}"
        )
    if len(left) == 0:
        return np.zeros(0, dtype=np.int64)
    # Ends as compact indices; at[end][colour] is the meeting of that colour there, or -1.
    _, left_end = np.unique(left, return_inverse=True)
    _, right_end = np.unique(right, return_inverse=True)
    n_left = int(left_end.max()) + 1
    degree = int(max(np.bincount(left_end).max(), np.bincount(right_end).max()))
    at = [[-1] * degree for _ in range(n_left + int(right_end.max()) + 1)]
    # free[end]: a bit per colour free there, so that the first colour free at both ends is the
    # lowest bit of an `and` rather than a scan of the colours.
    free = [(1 << degree) - 1] * len(at)
    ends = list(zip(left_end.tolist(), (right_end + n_left).tolist(), strict=True))
    colour = [-1] * len(ends)
    for meeting, (u, v) in enumerate(ends):
        both = free[u] & free[v]
        if both:
            a = (both & -both).bit_length() - 1
        else:
            a = (free[u] & -free[u]).bit_length() - 1
            b = (free[v] & -free[v]).bit_length() - 1
            _swap_along_path(at, free, ends, colour, v, a, b)
        colour[meeting] = a
        at[u][a] = at[v][a] = meeting
        free[u] ^= 1 << a
        free[v] ^= 1 << a
    # Number slots by size, then by their first meeting.
    colours = np.array(colour, dtype=np.int64)
    counts = np.bincount(colours, minlength=degree)
    first = np.full(degree, len(colours))
    np.minimum.at(first, colours, np.arange(len(colours)))
    rank = np.empty(degree, dtype=np.int64)
    rank[np.lexsort((first, -counts))] = np.arange(degree)
    return rank[colours]


def _swap_along_path(
    at: list[list[int]],
    free: list[int],
    ends: list[tuple[int, int]],
    colour: list[int],
    start: int,
    a: int,
    b: int,
) -> None:
    """Swap colours a and b on the a/b-alternating path from `start`, where b is free."""
    node, want = start, a
    nodes = [start]
    path: list[int] = []
    while (meeting := at[node][want]) != -1:
        path.append(meeting)
        u, v = ends[meeting]
        node = v if node == u else u
        nodes.append(node)
        want = b if want == a else a
    # Every node on the path trades its a- and b-meetings (or a free colour at either end).
    swapped = (1 << a) | (1 << b)
    for node in nodes:
        held = at[node]
        held[a], held[b] = held[b], held[a]
        # A colour free on one side of the swap only moves to the other.
        if (held[a] == -1) != (held[b] == -1):
            free[node] ^= swapped
    for meeting in path:
        colour[meeting] = b if colour[meeting] == a else a
