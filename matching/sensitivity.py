"""How far one weight can move before the optimal plan changes.

Scores are linear in the weights. Holding all weights but w_k, a pair's score is
``A + w_k X`` (X = raw_k), and a plan's total is a line in w_k. The best total over all plans is
the upper envelope of those lines: convex and piecewise linear. The current plan stays optimal
on an interval of w_k whose ends are where another plan's line crosses it, or where one of its
own pairs falls below the (relative) threshold.

We find each end exactly by the line-intersection method (Eisner and Severance): solve at the
far end of the range; if a plan beats the current one there, intersect the two lines and solve
at the intersection; each new plan found is a new piece of the envelope, so this stops after a
few solves, at a breakpoint given by a closed formula rather than a sampled grid. A threshold
changes which pairs are eligible at points we compute too, so the range is cut into segments
with a fixed eligible set, within which the envelope argument holds.

A large problem's solves start from the current plan (`_reoptimize`): near the current weights
the best plan is that plan or the plan with a few swaps, found by cancelling negative cycles in a
fraction of a solve. A small one's searches (two per weight) are independent and each solve of
theirs costs mostly its setting up: they run side by side, and what they ask at each step is
solved as one flow over copies of the network (`_together`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np

from matching._flow import WarmStart, solve_dense, solve_stack
from matching._reoptimize import Labels, reoptimize, union
from matching._types import BoolArray, FloatArray, IntArray, Pair

__all__ = ["PlanChange", "WeightInterval", "weight_intervals"]

#: Bound on the envelope pieces one search may visit (a guard; real searches take a few).
_MAX_PIECES = 10_000
#: How far (in first steps) an unbounded search walks before asking whether any plan is steeper.
_FAR = 4**5
#: The first galloping step, relative to the sum of the weights.
_FIRST_STEP = 3e-4
#: Problems with at most this many open pairs have few plans, so few pieces of the envelope lie
#: between the current weight and the far end of a stretch: line intersection from the far end
#: reaches the breakpoint in a solve or two, fewer than a walk takes to get near it.
_FEW_PAIRS = 1_000
#: Steps a large problem's walk takes out from the weight before checking a bounded stretch's
#: far end.
_NEAR_STEPS = 2
#: Problems with more open pairs than this re-solve by cancelling cycles from the plan
#: (`_reoptimize`); smaller ones are solved whole by the solver faster than labels are corrected.
_REOPTIMIZE_ABOVE = 20_000
#: How large the candidates shared between searches may grow, relative to the plan's own.
_POOL_GROWTH = 2
#: Problems of at most this many pairs (rows x columns) run their searches side by side, each
#: step's solves as one flow (`_together`; every solve of theirs is of the whole eligible graph).
#: A solve of a few dozen pairs is mostly setting it up: the shipped 7 x 7 network's 22 searches
#: took 12 ms instead of 20, a 20 x 20 one's 44 instead of 58; from about 25 x 25 the flow of all
#: copies costs more than the solves apart (measured on synthetic networks, capacity 3). Counted
#: in cells, not open pairs: the searches' instances are stacked as whole matrices.
_BATCH_CELLS = 400


@dataclass(frozen=True)
class PlanChange:
    """What happens to the plan just past an end of the interval."""

    at: float
    entering: tuple[Pair, ...]
    leaving: tuple[Pair, ...]
    reason: str  # "outscored": another plan scores more; "threshold": a pair falls below it


@dataclass(frozen=True)
class WeightInterval:
    """The range of one weight (the others held) over which the plan stays optimal.

    `upper` is ``math.inf`` when no increase changes the plan; `below` is None when the plan
    stays optimal all the way down to a weight of 0.
    """

    component: str
    weight: float
    lower: float
    upper: float
    below: PlanChange | None
    above: PlanChange | None


@dataclass(frozen=True)
class _Problem:
    """One direction of one weight: scores ``base + s * slope`` for s in [0, s_max]."""

    base: FloatArray
    slope: FloatArray
    #: Score minus threshold at s = 0, and its rate of change in s; None without a threshold
    #: (then a pair qualifies when its score is positive, which `base` and `slope` tell).
    margins: tuple[FloatArray, FloatArray] | None
    static: BoolArray  # allowed, not forbidden, not pinned
    cap_rows: IntArray
    cap_cols: IntArray
    plan: tuple[IntArray, IntArray]  # the current plan's free pairs
    pins: tuple[IntArray, IntArray]
    s_max: float


class _Search:
    """State of one search: the problem and the warm start its solves hand on."""

    def __init__(
        self,
        problem: _Problem,
        warm: WarmStart,
        origin: Labels | None = None,
        pool: IntArray | None = None,
        sibling: _Search | None = None,
    ) -> None:
        """A search of `problem` from the warm start `warm`.

        `sibling` is a search of another weight of the same problem (the same scores, eligible
        pairs, plan and capacities; only the slope differs): what it found of them is taken
        from it rather than found again.
        """
        self.p = problem
        # Candidates and potentials carried from solve to solve: warm starts.
        self.warm = warm
        rows, cols = problem.plan
        if sibling is None:
            pairs = int(np.count_nonzero(problem.static))
            self.few = pairs <= _FEW_PAIRS
            self.reoptimizes = pairs > _REOPTIMIZE_ABOVE
            self.plan_set = set(zip(rows.tolist(), cols.tolist(), strict=True))
            self.supply = int(problem.cap_rows.sum())
            base_line = float(problem.base[rows, cols].sum())
        else:
            self.few, self.reoptimizes = sibling.few, sibling.reoptimizes
            self.plan_set, self.supply = sibling.plan_set, sibling.supply
            base_line = sibling.plan_line[0]
        self.plan_line: tuple[float, float] = (base_line, float(problem.slope[rows, cols].sum()))
        # Labels that proved our plan optimal, by s: the nearest start the next answer's.
        self.proofs: list[tuple[float, Labels]] = [] if origin is None else [(0.0, origin)]
        # The candidates of `reoptimize`, as sorted flat indices, our plan's pairs among them
        # (`_plan_pool`, unless the caller hands on those of earlier searches).
        self.pool = np.zeros(0, dtype=np.int64)
        if self.reoptimizes:
            self.pool = (
                _plan_pool(warm, problem.plan, problem.base.shape[1]) if pool is None else pool
            )

    def eligible_at(self, s: float) -> BoolArray:
        p = self.p
        eligible = p.static & (p.base + s * p.slope > 0)
        if p.margins is not None:
            eligible &= p.margins[0] + s * p.margins[1] >= 0
        return eligible

    def solve(self, s: float, eligible: BoolArray) -> tuple[IntArray, IntArray]:
        """The best plan at `s`.

        A large problem cancels negative cycles from our plan (`_slack` says how exactly), else
        is solved. Always to the best plan, never the first that beats ours: an interval's end
        reports the plan just past it (`PlanChange`), and a plan found by stopping early may
        lack swaps that become worth making at the same point as those it has.
        """
        weights = self.p.base + s * self.p.slope
        if self.reoptimizes:
            rows, cols = self.p.plan
            mine = float(weights[rows, cols].sum())
            found = reoptimize(
                weights,
                eligible,
                self.p.plan,
                self.p.cap_rows,
                self.p.cap_cols,
                self.pool,
                start=self._start(s),
                slack=_slack(mine, self.supply),
            )
            if found is not None:
                if not found.cancelled:
                    self.proofs.append((s, found.labels))
                self.pool = found.pool
                return found.rows, found.cols
        chosen, self.warm = solve_dense(
            weights, eligible, self.p.cap_rows, self.p.cap_cols, warm=self.handover()
        )
        rows, cols = np.nonzero(chosen)
        return rows, cols

    def handover(self) -> WarmStart:
        """The warm start of a solve, with the candidates `reoptimize` priced in."""
        if not self.reoptimizes:
            return self.warm
        candidates = self.warm.candidates.copy()
        candidates.flat[self.pool] = True
        return replace(self.warm, candidates=candidates)

    def _start(self, s: float) -> Labels | None:
        """The labels of the proof nearest `s`: its paths are the likeliest still shortest."""
        if not self.proofs:
            return None
        return min(self.proofs, key=lambda proof: abs(proof[0] - s))[1]

    def answer(self, ask: _Ask) -> tuple[IntArray, IntArray]:
        """The plan a step asks for, solved on its own."""
        s, eligible = ask
        return self.solve_slopes(eligible) if s is None else self.solve(s, eligible)

    def instance(self, ask: _Ask) -> tuple[FloatArray, BoolArray]:
        """The weights and eligible pairs of the plan a step asks for, to be solved whole."""
        s, eligible = ask
        if s is None:
            return self.p.slope, eligible & (self.p.slope > 0)
        return self.p.base + s * self.p.slope, eligible

    def solve_slopes(self, eligible: BoolArray) -> tuple[IntArray, IntArray]:
        """The plan with the steepest line: its candidates would be poor warm starts elsewhere."""
        slopes, rising = self.instance((None, eligible))
        chosen, _ = solve_dense(slopes, rising, self.p.cap_rows, self.p.cap_cols, price=False)
        rows, cols = np.nonzero(chosen)
        return rows, cols

    def line(self, plan: tuple[IntArray, IntArray]) -> tuple[float, float]:
        rows, cols = plan
        return float(self.p.base[rows, cols].sum()), float(self.p.slope[rows, cols].sum())

    def beats(self, other: tuple[float, float], s: float) -> bool:
        mine = self.plan_line[0] + s * self.plan_line[1]
        theirs = other[0] + s * other[1]
        return theirs > mine + 1e-9 * max(1.0, abs(mine))

    def change(self, at: float, other: tuple[IntArray, IntArray], reason: str) -> PlanChange:
        theirs = set(zip(other[0].tolist(), other[1].tolist(), strict=True))
        return PlanChange(
            at=at,
            entering=tuple(sorted(theirs - self.plan_set)),
            leaving=tuple(sorted(self.plan_set - theirs)),
            reason=reason,
        )


def _slack(value: float, supply: int) -> float:
    """How far below zero `reoptimize` lets a reduced cost be, for a plan worth `value`.

    A plan beats its answer by at most the slack times the arcs of a cycle decomposition of
    their difference (fewer than four per unit of capacity, plus two): ten times inside the
    tolerance of `_Search.beats`, so what we conclude is what an exact solve would let us.
    """
    return 1e-10 * max(1.0, abs(value)) / (4 * (supply + 1))


def _feasibility_end(p: _Problem) -> float:
    """The s beyond which one of the plan's own pairs stops qualifying (pins always qualify)."""
    rows, cols = p.plan
    ends = [math.inf]
    if p.margins is not None:
        m0, m1 = p.margins[0][rows, cols], p.margins[1][rows, cols]
        falling = m1 < 0
        ends.extend((m0[falling] / -m1[falling]).tolist())
    v0, v1 = p.base[rows, cols], p.slope[rows, cols]
    falling = v1 < 0
    ends.extend((v0[falling] / -v1[falling]).tolist())
    return max(0.0, min(ends))


def _eligibility_events(p: _Problem, start: float, stop: float) -> tuple[list[float], list[float]]:
    """Points in (start, stop) where a pair starts qualifying, and where one stops.

    Between two such points the eligible set is fixed, so the best total is a convex function of
    s there and the line-intersection argument holds; across them it need not.
    """
    entries: list[FloatArray] = [np.zeros(0)]
    exits: list[FloatArray] = [np.zeros(0)]
    lines = [(p.base, p.slope)] if p.margins is None else [p.margins, (p.base, p.slope)]
    for zero, rate in lines:
        moving = p.static & (rate != 0)
        if zero.size > _FEW_PAIRS and start >= 0 and zero.min() >= 0:
            if rate.min() >= 0:
                continue  # every line starts at or above 0 and rises: no root beyond 0 (raises)
            # Lines from at or above 0 have roots beyond 0 only if they fall, and inside only if
            # they reach 0 before `stop`: only those few lines' roots are taken (most cuts have
            # none), the margin keeping every root that rounds to just below `stop`.
            moving &= rate < 0
            if math.isfinite(stop):
                moving &= zero + stop * rate < 1e-9 * zero
        roots = -zero[moving] / rate[moving]
        inside = (roots > start) & (roots < stop)
        rising = rate[moving] > 0
        entries.append(roots[inside & rising])
        exits.append(roots[inside & ~rising])
    return _sorted_unique(np.concatenate(entries)), _sorted_unique(np.concatenate(exits))


#: A search's end (where the plan stops qualifying, or s_max) and the points in (0, end) where
#: pairs start and stop qualifying: what `_search_up` cuts its range at.
_Events = tuple[float, list[float], list[float]]


def _all_events(
    raw: FloatArray,
    scores: FloatArray,
    static: BoolArray,
    plan: tuple[IntArray, IntArray],
    weights: FloatArray,
    min_score: float,
) -> list[_Events]:
    """The events of every weight's searches, up then down, all at once.

    The same values, bit for bit, as `_feasibility_end` and `_eligibility_events` find one
    search at a time. A search's lines share their value at s = 0 with every other search's;
    only the rates differ, by weight and by sign, and a root moving down is the negated root
    moving up. So the roots of all the searches are a few array operations, not a few dozen per
    search: on a small problem, where every operation is mostly its overhead, those were a fifth
    of the sensitivity's time.
    """
    total = float(weights.sum())
    rows, cols = plan
    # Each line as (its value at 0, its rate moving up, per weight); with no threshold a pair's
    # margin is its score: the same roots, counted once (as `weight_intervals` builds problems).
    lines = [(scores, raw)]
    if min_score != 0:
        lines.insert(0, (scores - min_score * total, raw - min_score))
    # Where the plan's own pairs stop qualifying: the first root of a falling line among them.
    ends = []
    for sign in (1.0, -1.0):
        first = np.full(len(raw), math.inf)
        for zero, rate in lines:
            slope = sign * rate[:, rows, cols]
            falling = slope < 0
            with np.errstate(divide="ignore", invalid="ignore"):
                roots = np.where(falling, zero[rows, cols] / np.negative(slope), math.inf)
            np.minimum(first, roots.min(axis=1, initial=math.inf), out=first)
        ends.append(np.maximum(first, 0.0))
    # Every line's root moving up, per weight: (weights, lines x cells), the lines side by side
    # (the order of a search's roots does not matter: they are sorted and made unique).
    count = len(raw)
    with np.errstate(divide="ignore", invalid="ignore"):
        roots = np.concatenate([(-zero / rate).reshape(count, -1) for zero, rate in lines], 1)
    moving = np.concatenate(
        [(static & (rate != 0)).reshape(count, -1) for _, rate in lines], axis=1
    )
    rising = np.concatenate([(rate > 0).reshape(count, -1) for _, rate in lines], axis=1)
    found: list[tuple[list[FloatArray], list[FloatArray]]] = []
    stretch = []
    for direction, sign in enumerate((1.0, -1.0)):
        # A root moving down is the negated root moving up. A search stops where the plan stops
        # qualifying, and one down at the weight's own value too (the weight reaches 0 there).
        stop = np.minimum(ends[direction], math.inf if sign > 0 else weights)
        at = roots if sign > 0 else -roots
        inside = moving & (at > 0) & (at < stop[:, None])
        up = rising if sign > 0 else ~rising
        found.append((_per_row(at, inside & up), _per_row(at, inside & ~up)))
        stretch.append(stop.tolist())
    return [
        (stretch[direction][k], _sorted_unique(found[direction][0][k]),
         _sorted_unique(found[direction][1][k]))
        for k in range(count)
        for direction in (0, 1)
    ]  # fmt: skip


def _per_row(values: FloatArray, mask: BoolArray) -> list[FloatArray]:
    """The values `mask` picks in each row of a 2-d array, one array per row."""
    counts = np.count_nonzero(mask, axis=1)
    return np.split(values[mask], np.cumsum(counts)[:-1])


def _sorted_unique(values: FloatArray) -> list[float]:
    """`np.unique(values)` as a list of floats; a set is quicker on the few of a small problem."""
    if len(values) <= 64:
        return sorted(set(values.tolist()))
    unique: list[float] = np.unique(values).tolist()
    return unique


_Plan = tuple[IntArray, IntArray]
#: What a search asks for: the best plan at s over the eligible pairs, or with s None the plan
#: with the steepest line (`_Search.answer`).
_Ask = tuple[float | None, BoolArray]
_T = TypeVar("_T")
#: A search's steps: it yields what it asks and is sent the plan that answers, so that the
#: searches of a small problem can be answered together (`_together`), one flow for all.
_Steps = Generator[_Ask, _Plan, _T]


def _alone(search: _Search, steps: _Steps[_T]) -> _T:
    """Run one search's steps, answering each as it asks."""
    try:
        ask = next(steps)
        while True:
            ask = steps.send(search.answer(ask))
    except StopIteration as done:
        result: _T = done.value
        return result


def _together(
    searches: list[_Search], steps: list[_Steps[_T]], cap_rows: IntArray, cap_cols: IntArray
) -> list[_T]:
    """Run searches side by side: what they ask at each step is answered by one flow solve.

    The searches are of one problem (its capacities `cap_rows` and `cap_cols`), each weight up
    and down. On a small problem a solve is mostly the cost of setting it up, about the same for
    one instance as for twenty (`solve_stack`). The searches are independent and each copy in
    the joint flow is solved to its own optimum, so the intervals are those each search finds
    alone (where several plans tie for the best, the one reported past an end may differ).
    """
    results: dict[int, _T] = {}
    asked: list[tuple[int, _Ask]] = []

    def advance(index: int, plan: _Plan | None) -> None:
        step = steps[index]
        try:
            asked.append((index, next(step) if plan is None else step.send(plan)))
        except StopIteration as done:
            results[index] = done.value

    for index in range(len(steps)):
        advance(index, None)
    while asked:
        batch, asked = asked, []
        weights, eligible = zip(
            *(searches[index].instance(ask) for index, ask in batch), strict=True
        )
        chosen = solve_stack(np.stack(weights), np.stack(eligible), cap_rows, cap_cols)
        for (index, _), cells in zip(batch, chosen, strict=True):
            rows, cols = np.nonzero(cells)
            advance(index, (rows, cols))
    return [results[index] for index in range(len(steps))]


def _gallop(
    search: _Search, a: float, b: float, eligible: BoolArray, first_step: float
) -> _Steps[tuple[float, float, _Plan] | None]:
    """Look for a plan that beats ours in (a, b], where ours is optimal at `a`.

    Returns None if there is none (then ours is optimal on all of [a, b], by convexity over the
    fixed `eligible` set), else an interval (low, high) with ours optimal at `low` and a plan
    that beats it at `high`. We walk out from `a` in fourfold steps, so that the line
    intersection starts next to the breakpoint where it needs few solves. A bounded stretch is
    checked at its far end after `_NEAR_STEPS` steps: most stretches that hold are shown to by
    that one solve, while a large problem's breakpoint is usually a step or two out, where a
    solve is cheap (the warm start is nearly right; at the far end it takes many pricing
    rounds). An unbounded walk ends, after `_FAR` first steps, with one solve on the slopes
    alone, which tells whether any plan ever overtakes ours. A problem with few pairs skips the
    walk (see `_FEW_PAIRS`): the line intersection starts from the plan that beats ours at the
    far end, or, on an unbounded stretch, from the steepest plan.
    """
    low, step = a, first_step
    if math.isinf(b):
        if search.few:
            return (yield from _steeper(search, a, b, eligible))
        reach, found = math.inf, None
    else:
        for _ in range(0 if search.few else _NEAR_STEPS):
            if low + step >= b:
                break
            probe = yield low + step, eligible
            if search.beats(search.line(probe), low + step):
                return low, low + step, probe
            low, step = low + step, step * 4
        found = yield b, eligible
        if not search.beats(search.line(found), b):
            return None
        if search.few:
            return a, b, found
        reach = _crossing(search.plan_line, search.line(found), a)
    while low + step < reach:
        if math.isinf(b) and step > _FAR * first_step:
            return (yield from _steeper(search, low, b, eligible))
        probe = yield low + step, eligible
        if search.beats(search.line(probe), low + step):
            return low, low + step, probe
        low, step = low + step, step * 4
    assert found is not None
    return low, b, found


def _steeper(
    search: _Search, low: float, b: float, eligible: BoolArray
) -> _Steps[tuple[float, float, _Plan] | None]:
    """The steepest plan, if steeper than ours (optimal at `low`): only it can overtake ours."""
    steepest = yield None, eligible
    slope = search.line(steepest)[1]
    if slope <= search.plan_line[1] + 1e-12 * max(1.0, search.plan_line[1]):
        return None
    return low, b, steepest


def _crossing(mine: tuple[float, float], other: tuple[float, float], at: float) -> float:
    """Where the line `other` (steeper) crosses `mine`, given both lines' values are known.

    A line that is not steeper and still beats ours is ahead of it from `at` on: ours was
    optimal at `at` only to within the solver's precision (weights spanning more than 1e9), so
    the crossing is `at` itself.
    """
    if other[1] <= mine[1]:
        return at
    return at + ((mine[0] + at * mine[1]) - (other[0] + at * other[1])) / (other[1] - mine[1])


def _intersect(
    search: _Search, low: float, high: float, found: _Plan, eligible: BoolArray
) -> _Steps[tuple[float, PlanChange]]:
    """The breakpoint in [low, high], by line intersection (Eisner and Severance).

    Each solve either confirms the crossing or finds a new piece of the envelope, so the loop
    ends after at most as many solves as there are pieces.
    """
    for _ in range(_MAX_PIECES):
        crossing = min(max(_crossing(search.plan_line, search.line(found), low), low), high)
        better = yield crossing, eligible
        if not search.beats(search.line(better), crossing):
            return crossing, search.change(crossing, found, "outscored")
        found = better
    raise RuntimeError("line intersection did not converge")  # pragma: no cover


def _search_up(
    search: _Search, first_step: float, events: _Events | None = None
) -> _Steps[tuple[float, PlanChange | None]]:
    """Largest s in [0, s_max] up to which the plan stays optimal, and the change past it.

    The range is cut where pairs start qualifying. Pairs that stop qualifying only remove plans,
    so a run between two entries is first checked as one piece over the eligible set at its start
    (a superset of the sets later in the run); only if some plan beats ours there is the run cut
    at its exits, since the beating plan might use a pair that has left. A large problem checks
    runs, and pieces of a run, several at a time first (`_skip_runs`). `events` are the search's
    end and events where they are known (`_all_events`).
    """
    problem = search.p
    if events is None:
        end = min(_feasibility_end(problem), problem.s_max)
        entries, exits = _eligibility_events(problem, 0.0, end)
    else:
        end, entries, exits = events
    bounds = [0.0, *entries, end]
    width = first_step
    run = 0
    while run < len(bounds) - 1:
        if not search.few:
            run, width = yield from _skip_runs(search, bounds, run, width)
            if run == len(bounds) - 1:
                break
        a, b = bounds[run], bounds[run + 1]
        run += 1
        inner = [x for x in exits if a < x < b]
        first = inner[0] if inner else b
        widest = search.eligible_at(a + first_step if math.isinf(first) else (a + first) / 2)
        if a > 0:
            at_start = yield a, widest
            if search.beats(search.line(at_start), a):
                return a, search.change(a, at_start, "outscored")
        outcome = yield from _gallop(search, a, b, widest, first_step)
        if outcome is None:
            continue
        if not inner:
            return (yield from _intersect(search, *outcome, widest))
        cuts, piece, piece_width = [a, *inner, b], 0, first_step
        while piece < len(cuts) - 1:
            if not search.few:
                piece, piece_width = yield from _skip_runs(search, cuts, piece, piece_width)
                if piece == len(cuts) - 1:
                    break
            c, d = cuts[piece], cuts[piece + 1]
            piece += 1
            eligible = search.eligible_at(c + first_step if math.isinf(d) else (c + d) / 2)
            outcome = yield from _gallop(search, c, d, eligible, first_step)
            if outcome is not None:
                return (yield from _intersect(search, *outcome, eligible))
    if end >= problem.s_max:
        return problem.s_max, None
    # The plan itself stops qualifying at `end`: show the plan just past it.
    step = 1e-9 * max(1.0, end)
    beyond = yield end + step, search.eligible_at(end + step)
    return end, search.change(end, beyond, "threshold")


def _skip_runs(
    search: _Search, bounds: list[float], run: int, width: float
) -> _Steps[tuple[int, float]]:
    """The first run, from `run` on, not shown to hold by checking several runs at once.

    With a threshold, pairs start qualifying every few thousandths of a weight, and checking each
    run between two such points takes two solves. Runs are checked a block at a time instead,
    over the pairs eligible anywhere in the block: as over any fixed set of pairs, the best total
    is convex in s, so if no plan beats ours at either end of the block, none does inside it,
    over that set or the smaller ones of its runs. Blocks start `width` wide, widen fourfold
    while they hold and narrow fourfold when they do not, down to single runs, which the caller
    checks one by one as before; the result is theirs. Returns the run and the width to go on
    with.
    """
    problem = search.p
    while True:
        a = bounds[run]
        last = bisect.bisect_right(bounds, a + width) - 2
        if last <= run:
            return run, width
        b = bounds[last + 1]
        eligible = _eligible_between(problem, a, b)
        holds = yield from _holds(search, a, eligible)
        if holds:
            holds = yield from _holds(search, b, eligible)
        if holds:
            run = last + 1
            if run == len(bounds) - 1:
                return run, width
            width *= 4
        else:
            width /= 4


def _holds(search: _Search, s: float, eligible: BoolArray) -> _Steps[bool]:
    """Whether no plan over `eligible` beats ours at `s`."""
    best = yield s, eligible
    return not search.beats(search.line(best), s)


def _eligible_between(p: _Problem, a: float, b: float) -> BoolArray:
    """Pairs that qualify somewhere in [a, b], or a few more.

    A pair qualifies where two linear functions of s are at or above zero, so somewhere in [a, b]
    only if each is at one end or the other.
    """
    eligible = p.static & ((p.base + a * p.slope > 0) | (p.base + b * p.slope > 0))
    if p.margins is not None:
        zero, rate = p.margins
        eligible &= (zero + a * rate >= 0) | (zero + b * rate >= 0)
    return eligible


def weight_intervals(
    raw: FloatArray,
    component_ids: tuple[str, ...],
    weights: FloatArray,
    *,
    plan: tuple[IntArray, IntArray],
    pins: tuple[IntArray, IntArray],
    static: BoolArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
    min_score: float,
    warm: WarmStart | None = None,
) -> tuple[WeightInterval, ...]:
    """The interval of each weight over which `plan` stays optimal, exactly.

    Parameters
    ----------
    raw : ndarray, shape (K, n, m)
        Raw component matrices.
    component_ids : tuple of str
        The K components, naming the intervals.
    weights : ndarray, shape (K,)
        The weights the plan was computed with.
    plan, pins : (rows, cols)
        The plan's free pairs, and its pinned pairs (always in, they only use capacity).
    static : ndarray of bool
        Pairs a plan may use at all (allowed, not forbidden, not pinned).
    cap_rows, cap_cols : ndarray
        Capacities left after the pins.
    min_score : float
        The relative threshold: a pair qualifies when score >= min_score * sum(weights).
    warm : WarmStart, optional
        The warm start of the plan's own solve (saves solving it again).
    """
    scores = np.tensordot(weights, raw, axes=1)
    total = float(weights.sum())
    out = []
    # Every search starts from the plan's own solve: its potentials, and its candidates with
    # those the searches before added (`_pool`).
    large = np.count_nonzero(static) > _REOPTIMIZE_ABOVE
    if warm is None or large:
        eligible = static & (scores >= min_score * total) & (scores > 0)
    if warm is None:
        _, warm = solve_dense(scores, eligible, cap_rows, cap_cols)
    pooled = warm
    # A large problem re-solves from the plan (`reoptimize`): the labels proving the plan
    # optimal at the weights themselves, with the paths that reach them, start every search's
    # first answer (`_along`), and the candidates are handed on as flat indices, as in `_pool`.
    origin, keys, plan_keys = None, None, np.zeros(0, dtype=np.int64)
    if large:
        rows, cols = plan
        keys = plan_keys = _plan_pool(warm, plan, scores.shape[1])
        slack = _slack(float(scores[rows, cols].sum()), int(cap_rows.sum()))
        found = reoptimize(
            scores, eligible, plan, cap_rows, cap_cols, keys, start=None, slack=slack
        )
        if found is not None and not found.cancelled:
            origin = found.labels
    first_step = _FIRST_STEP * total

    # Each pair's margin over the threshold at the weights, the same for every search.
    margin = scores - min_score * total

    def problem(k: int, sign: float) -> _Problem:
        """Weight k moving up (sign 1) or down (sign -1) from its value."""
        x = raw[k]
        return _Problem(
            base=scores,
            slope=sign * x,
            # With no threshold a pair's margin is its score: the same roots, counted once.
            margins=None if min_score == 0 else (margin, sign * (x - min_score)),
            static=static,
            cap_rows=cap_rows,
            cap_cols=cap_cols,
            plan=plan,
            pins=pins,
            s_max=math.inf if sign > 0 else float(weights[k]),
        )

    directions = [(k, sign) for k in range(len(component_ids)) for sign in (1.0, -1.0)]
    ends: list[tuple[float, PlanChange | None]] = []
    if not large and scores.size <= _BATCH_CELLS:
        # Every solve is of the whole eligible graph, with nothing handed from one to the next.
        searches: list[_Search] = []
        for k, sign in directions:
            sibling = searches[0] if searches else None
            searches.append(_Search(problem(k, sign), warm, sibling=sibling))
        events = _all_events(raw, scores, static, plan, weights, min_score)
        steps = [
            _search_up(search, first_step, known)
            for search, known in zip(searches, events, strict=True)
        ]
        ends = _together(searches, steps, cap_rows, cap_cols)
    first: _Search | None = None
    for k, sign in directions[len(ends) :]:
        search = _Search(problem(k, sign), pooled, origin, keys, sibling=first)
        first = first or search
        ends.append(_alone(search, _search_up(search, first_step)))
        if keys is None:
            pooled = _pool(warm, pooled, search.warm)
        elif len(search.pool) <= _POOL_GROWTH * len(plan_keys):
            keys = search.pool
        else:
            keys = plan_keys
    for k, component in enumerate(component_ids):
        w_k = float(weights[k])
        (up, above), (down, below) = ends[2 * k], ends[2 * k + 1]
        out.append(
            WeightInterval(
                component=component,
                weight=w_k,
                lower=max(0.0, w_k - down),
                upper=w_k + up,
                below=None if below is None else _shift(below, w_k, -1.0),
                above=None if above is None else _shift(above, w_k, 1.0),
            )
        )
    return tuple(out)


def _plan_pool(warm: WarmStart, plan: tuple[IntArray, IntArray], m: int) -> IntArray:
    """The plan's candidates and pairs as sorted flat indices, for `reoptimize`."""
    rows, cols = plan
    return union(np.flatnonzero(warm.candidates), rows * m + cols)


def _pool(plan: WarmStart, pooled: WarmStart, last: WarmStart) -> WarmStart:
    """The warm start of the next search: the plan's, with the candidates searches have added.

    Edges that priced in for one weight's search mostly price in for the next ones' too (the
    plans near the current weights differ in a few swaps), and every pricing round they save
    is a flow solve; but a pool that kept growing would slow every solve down, so the added
    candidates are dropped once they would double the plan's own.
    """
    if last.potentials is None:
        return plan  # solved whole, without pricing: candidates play no part
    candidates = pooled.candidates | last.candidates
    if np.count_nonzero(candidates) > _POOL_GROWTH * np.count_nonzero(plan.candidates):
        return plan
    return replace(plan, candidates=candidates)


def _shift(change: PlanChange, weight: float, sign: float) -> PlanChange:
    return PlanChange(
        at=max(0.0, weight + sign * change.at),
        entering=change.entering,
        leaving=change.leaving,
        reason=change.reason,
    )
