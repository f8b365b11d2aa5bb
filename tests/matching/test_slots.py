"""Time slots: no enterprise twice in a slot, as few slots as the busiest enterprise (König)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import assign_slots

from .helpers import check_slots


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=120),
)
def test_slots_colour_any_bipartite_multigraph_with_max_degree_colours(edges) -> None:
    rows = np.array([e[0] for e in edges], dtype=np.int64)
    cols = np.array([e[1] for e in edges], dtype=np.int64)
    slots = assign_slots(rows, cols)
    pairs = [(f"n{a}", f"e{x}") for a, x in edges]
    check_slots(pairs, slots.tolist(), int(slots.max(initial=-1)) + 1)
    if len(slots):
        sizes = np.bincount(slots)
        assert (np.diff(sizes) <= 0).all()


def test_slots_need_a_path_swap_on_an_even_cycle() -> None:
    # Colouring in this order, the last meeting finds colour 1 taken at its eastern end: without
    # swapping colours along the path e2-n1-e1 it would need a third slot; the degree is two.
    rows = np.array([0, 1, 1, 0])
    cols = np.array([0, 1, 2, 2])
    slots = assign_slots(rows, cols)
    pairs = [(f"n{a}", f"e{x}") for a, x in zip(rows.tolist(), cols.tolist(), strict=True)]
    check_slots(pairs, slots.tolist(), 2)


@pytest.mark.parametrize(
    ("rows", "cols", "message"),
    [
        ([0, 1], [0], "`rows` and `cols` must have the same length, got 2 and 1"),
        ([0.5], [0], "`rows` must be a 1-d array of integers"),
        ([[0]], [0], "`rows` must be a 1-d array of integers"),
        ([0], [-1], "`cols` must be non-negative, got -1"),
    ],
)
def test_slot_arguments_are_checked(rows, cols, message) -> None:
    with pytest.raises(ValueError, match=message):
        assign_slots(rows, cols)
