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
    # Ends as compact indices, each scaled to its offset in `at`, a flat list where at[end + c] is
    # the meeting of colour c there, or -1; free[end] (used at those offsets only) has a bit per
    # colour free there, so that the first colour free at both ends is the lowest bit of an `and`.
    # Flat lists of ints rather than a list per end and a tuple per meeting: on a round of tens of
    # thousands of meetings, those allocations (and the garbage collections they set off) cost
    # more than the colouring itself.
    _, left_end = np.unique(left, return_inverse=True)
    _, right_end = np.unique(right, return_inverse=True)
    n_left = int(left_end.max()) + 1
    degree = int(max(np.bincount(left_end).max(), np.bincount(right_end).max()))
    size = (n_left + int(right_end.max()) + 1) * degree
    at = [-1] * size
    free = [(1 << degree) - 1] * size
    us = (left_end * degree).tolist()
    vs = ((right_end + n_left) * degree).tolist()
    lowest = _lowest_bits(degree)
    colour = [0] * len(us)
    for meeting, (u, v) in enumerate(zip(us, vs, strict=True)):
        both = free[u] & free[v]
        if both:
            a = lowest[both]
        else:
            a = lowest[free[u]]
            _swap_along_path(at, free, us, vs, colour, v, a, lowest[free[v]])
        colour[meeting] = a
        at[u + a] = at[v + a] = meeting
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


class _LowestBit:
    """The index of the lowest set bit of an int, computed (beyond the table's few colours)."""

    def __getitem__(self, bits: int) -> int:
        return (bits & -bits).bit_length() - 1


def _lowest_bits(degree: int) -> list[int] | _LowestBit:
    """Index of the lowest set bit of every mask of `degree` bits: a table when it is small.

    A list lookup costs less than the two operations and the method call it replaces, once per
    meeting.
    """
    if degree > 12:
        return _LowestBit()
    table = [0] * (1 << degree)
    for bit in range(1, degree):
        # The masks whose lowest set bit is `bit`: the odd multiples of 2**bit.
        step = 1 << bit
        table[step :: 2 * step] = [bit] * len(range(step, 1 << degree, 2 * step))
    return table


def _swap_along_path(
    at: list[int],
    free: list[int],
    us: list[int],
    vs: list[int],
    colour: list[int],
    start: int,
    a: int,
    b: int,
) -> None:
    """Swap colours a and b on the a/b-alternating path from `start`, where b is free.

    One walk: each node trades its a- and b-meetings as it is passed (the path never comes back
    to a node), and the meeting that leads on to the next node changes colour.
    """
    swapped = (1 << a) | (1 << b)
    node, want, other = start, a, b
    while True:
        held_a, held_b = at[node + a], at[node + b]
        at[node + a], at[node + b] = held_b, held_a
        # A colour free on one side of the swap only moves to the other.
        if (held_a == -1) != (held_b == -1):
            free[node] ^= swapped
        meeting = held_a if want == a else held_b
        if meeting == -1:
            return
        colour[meeting] = other
        u = us[meeting]
        node = vs[meeting] if node == u else u
        want, other = other, want
