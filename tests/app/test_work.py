"""Heavy work in a process of its own: results, errors, and the time and memory budgets."""

from __future__ import annotations

import operator
import time

import pytest

from app.errors import WorkLimitExceeded
from app.services.work import WorkBudget, bounded

BUDGET = WorkBudget.of(seconds=20, memory_mb=1024)


def test_the_result_and_the_errors_come_back_from_the_child() -> None:
    assert bounded(BUDGET, operator.add, 2, 3) == 5
    with pytest.raises(ValueError, match="invalid literal"):
        bounded(BUDGET, int, "x")


def test_a_computation_past_its_time_budget_is_stopped_and_named() -> None:
    started = time.perf_counter()
    with pytest.raises(WorkLimitExceeded, match=r"time budget of 0\.5 s"):
        bounded(WorkBudget.of(seconds=0.5, memory_mb=1024), time.sleep, 30)
    assert time.perf_counter() - started < 5


def test_a_computation_past_its_memory_budget_is_stopped_and_named() -> None:
    with pytest.raises(WorkLimitExceeded, match="memory budget of 512 MiB"):
        bounded(WorkBudget.of(seconds=20, memory_mb=512), bytearray, 2**31)
