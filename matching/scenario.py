"""What-if scenarios: re-weightings and profile overrides, compared with the baseline.

A scenario is a view: it never changes the network it is evaluated on. Weight changes recombine
the stored component matrices; overrides rescore only the rows and columns of the regions they
touch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from matching._types import FloatArray, IntArray, Pair
from matching._validate import check_choice, check_count, check_unit
from matching.network import Network, Side
from matching.plan import PlanResult, PlanSettings, plan_network, plan_request, reduce_pins
from matching.scoring import ComponentScores, Weights, score_components
from matching.sensitivity import WeightInterval, weight_intervals
from matching.suggest import Suggestion, rank_links, suggest_all
from matching.taxonomy import FACTOR_IDS

__all__ = [
    "MAX_OVERRIDES",
    "LinkMove",
    "Override",
    "Scenario",
    "ScenarioDiff",
    "ScenarioResult",
    "apply_overrides",
    "diff_results",
    "evaluate_scenario",
    "rescore",
]

#: Most overrides one scenario may carry.
MAX_OVERRIDES = 1000


@dataclass(frozen=True)
class Override:
    """A change to one region's profile: a sector's strength and/or need, or a factor's value."""

    region: str
    sector: str | None = None
    factor: str | None = None
    strength: float | None = None
    need: float | None = None
    value: float | None = None


@dataclass(frozen=True)
class Scenario:
    """Weight changes, profile overrides and plan settings; `k` suggestions per region."""

    weights: Mapping[str, float] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    plan: PlanSettings = field(default_factory=PlanSettings)
    k: int = 5
    links: int = 20
    moves: int = 50


@dataclass(frozen=True)
class LinkMove:
    """A link whose rank or score differs between two results (ranks count from 1)."""

    northeast: int
    east: int
    baseline_rank: int
    scenario_rank: int
    baseline_score: float
    scenario_score: float


@dataclass(frozen=True)
class ScenarioDiff:
    """Pairs that entered and left the plan, and the links that moved, largest moves first."""

    entered: tuple[Pair, ...]
    left: tuple[Pair, ...]
    moves: tuple[LinkMove, ...]
    moved_total: int


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """A scenario evaluated: its scores, links, suggestions, plan, diff and sensitivity."""

    network: Network
    components: ComponentScores
    weights: Weights
    scores: FloatArray
    links: tuple[IntArray, IntArray]
    suggestions: dict[str, list[Suggestion]]
    plan: PlanResult
    baseline_plan: PlanResult
    diff: ScenarioDiff
    sensitivity: tuple[WeightInterval, ...]


def apply_overrides(
    network: Network, overrides: Sequence[Override]
) -> tuple[Network, IntArray, IntArray]:
    """A new network with the overrides applied, and the rows and columns they changed.

    Raises
    ------
    ValueError
        Naming the override and field that is wrong (``overrides[2].sector``: ...).
    """
    if len(overrides) > MAX_OVERRIDES:
        raise ValueError(f"`overrides`: at most {MAX_OVERRIDES} per scenario, got {len(overrides)}")
    if not overrides:
        nothing = np.zeros(0, dtype=np.int64)
        return network, nothing, nothing
    tax = network.taxonomy
    copies = {
        side: {
            "strengths": network.side(side).strengths.copy(),
            "needs": network.side(side).needs.copy(),
            "factors": network.side(side).factors.copy(),
        }
        for side in ("northeast", "east")
    }
    changed: dict[str, set[int]] = {"northeast": set(), "east": set()}
    for n, item in enumerate(overrides):
        where = f"overrides[{n}]"
        side, index = network.locate(item.region, field=f"{where}.region")
        if (item.sector is None) == (item.factor is None):
            raise ValueError(f"`{where}`: give either a sector or a factor")
        arrays = copies[side]
        if item.sector is not None:
            column = tax.sector_index.get(item.sector)
            if column is None:
                raise ValueError(f"`{where}.sector`: unknown sector {item.sector!r}")
            if item.value is not None or (item.strength is None and item.need is None):
                raise ValueError(f"`{where}`: a sector override sets `strength` and/or `need`")
            for kind in ("strength", "need"):
                value = getattr(item, kind)
                if value is not None:
                    arrays[f"{kind}s"][index, column] = check_unit(f"{where}.{kind}", value)
        else:
            factor = check_choice(f"{where}.factor", item.factor, FACTOR_IDS)
            if item.value is None or item.strength is not None or item.need is not None:
                raise ValueError(f"`{where}`: a factor override sets `value`")
            value = check_unit(f"{where}.value", item.value)
            arrays["factors"][index, FACTOR_IDS.index(factor)] = value
        changed[side].add(index)
    sides = {
        name: Side(
            ids=network.side(name).ids,
            levels=network.side(name).levels,
            **{key: _readonly(array) for key, array in copies[name].items()},
        )
        for name in ("northeast", "east")
    }
    updated = Network(
        taxonomy=tax,
        northeast=sides["northeast"],
        east=sides["east"],
        ties=network.ties,
        existing=network.existing,
        evidence=network.evidence,
    )
    rows = np.array(sorted(changed["northeast"]), dtype=np.int64)
    cols = np.array(sorted(changed["east"]), dtype=np.int64)
    return updated, rows, cols


def _readonly(array: FloatArray) -> FloatArray:
    array.setflags(write=False)
    return array


def rescore(
    components: ComponentScores, network: Network, *, rows: IntArray, cols: IntArray
) -> ComponentScores:
    """Component matrices with only the given rows and columns rescored from `network`."""
    if rows.size == 0 and cols.size == 0:
        return components
    raw = components.raw.copy()
    if rows.size:
        raw[:, rows, :] = score_components(network.restrict(northeast=rows)).raw
    if cols.size:
        raw[:, :, cols] = score_components(network.restrict(east=cols)).raw
    raw.setflags(write=False)
    return ComponentScores(component_ids=components.component_ids, raw=raw)


def _ranks(scores: FloatArray) -> IntArray:
    """Rank of every link (1 = best), ties in row-major order."""
    order = np.argsort(-scores.ravel(), kind="stable")
    ranks = np.empty(order.size, dtype=np.int64)
    ranks[order] = np.arange(1, order.size + 1)
    return ranks.reshape(scores.shape)


def diff_results(
    base_scores: FloatArray,
    base_plan: PlanResult,
    scores: FloatArray,
    plan: PlanResult,
    *,
    limit: int = 50,
) -> ScenarioDiff:
    """What changed from one result to another: the plan's pairs and every moved link.

    A link moved when its rank differs or its score differs by more than 1e-12 (relative).
    Moves are listed largest rank change first, then largest score change.

    Examples
    --------
    >>> import numpy as np
    >>> from matching.plan import solve_plan
    >>> a = np.array([[0.9, 0.1], [0.2, 0.5]])
    >>> b = np.array([[0.1, 0.9], [0.2, 0.5]])
    >>> d = diff_results(a, solve_plan(a, capacity=1), b, solve_plan(b, capacity=1))
    >>> d.entered, d.left, d.moved_total
    (((0, 1), (1, 0)), ((0, 0), (1, 1)), 2)
    """
    before, after = _ranks(base_scores), _ranks(scores)
    rank_moves = np.abs(after - before)
    score_moves = np.abs(scores - base_scores)
    tolerance = 1e-12 * np.maximum(1.0, np.abs(base_scores))
    moved = (rank_moves > 0) | (score_moves > tolerance)
    rows, cols = np.nonzero(moved)
    if len(rows) > limit > 0:
        # Only the largest moves are listed: keep those whose rank move reaches the limit-th
        # largest before sorting, instead of sorting every moved link.
        bar = np.partition(rank_moves[rows, cols], len(rows) - limit)[len(rows) - limit]
        keep = rank_moves[rows, cols] >= bar
        rows, cols = rows[keep], cols[keep]
    order = np.lexsort((cols, rows, -score_moves[rows, cols], -rank_moves[rows, cols]))[:limit]
    moves = tuple(
        LinkMove(
            northeast=int(rows[k]),
            east=int(cols[k]),
            baseline_rank=int(before[rows[k], cols[k]]),
            scenario_rank=int(after[rows[k], cols[k]]),
            baseline_score=float(base_scores[rows[k], cols[k]]),
            scenario_score=float(scores[rows[k], cols[k]]),
        )
        for k in order.tolist()
    )
    old = {(p.northeast, p.east) for p in base_plan.pairs}
    new = {(p.northeast, p.east) for p in plan.pairs}
    return ScenarioDiff(
        entered=tuple(sorted(new - old)),
        left=tuple(sorted(old - new)),
        moves=moves,
        moved_total=int(moved.sum()),
    )


def plan_intervals(
    network: Network,
    components: ComponentScores,
    weights: Weights,
    settings: PlanSettings,
    plan: PlanResult,
) -> tuple[WeightInterval, ...]:
    """For each weight, the interval over which `plan` stays optimal (see `weight_intervals`)."""
    request = plan_request(network, settings)
    static, cap_rows, cap_cols = reduce_pins(
        request.allowed, request.cap_rows, request.cap_cols, request.pins, request.bans
    )
    free = [(p.northeast, p.east) for p in plan.pairs if not p.pinned]
    return weight_intervals(
        components.raw,
        components.component_ids,
        weights.vector,
        plan=_pair_arrays(free),
        pins=_pair_arrays(request.pins),
        static=static,
        cap_rows=cap_rows,
        cap_cols=cap_cols,
        min_score=settings.min_score,
        warm=plan.warm_start,
    )


def _pair_arrays(pairs: Sequence[Pair]) -> tuple[IntArray, IntArray]:
    rows = np.array([p[0] for p in pairs], dtype=np.int64)
    cols = np.array([p[1] for p in pairs], dtype=np.int64)
    return rows, cols


def evaluate_scenario(
    network: Network,
    components: ComponentScores,
    scenario: Scenario,
    *,
    sensitivity: bool = True,
) -> ScenarioResult:
    """Evaluate a scenario against the baseline (default weights, no overrides, same plan).

    Raises
    ------
    ValueError
        For a bad weight, override or plan setting, naming it.
    InfeasiblePlanError
        When the plan settings contradict each other.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> from matching.network import network_from_dataset
    >>> net = network_from_dataset(load_dataset())
    >>> comps = score_components(net)
    >>> same = evaluate_scenario(net, comps, Scenario())
    >>> same.diff.entered, same.diff.left, same.diff.moved_total
    ((), (), 0)
    """
    check_count("k", scenario.k, minimum=1)
    if sensitivity and scenario.plan.coverage.needs_milp:
        raise ValueError(
            "`coverage`: a scenario's sensitivity intervals assume the flow model, and the rules "
            "min_channels and per_docking make the plan a MILP; plan with them on POST /plans, "
            "or evaluate the scenario without them (max_new_per_east is fine)"
        )
    weights = Weights.resolve(network.taxonomy, scenario.weights)
    baseline_weights = Weights.resolve(network.taxonomy)
    base_scores = components.combine(baseline_weights)
    base_plan = plan_network(network, components, baseline_weights, scenario.plan)
    scenario_network, rows, cols = apply_overrides(network, scenario.overrides)
    scenario_components = rescore(components, scenario_network, rows=rows, cols=cols)
    scores = scenario_components.combine(weights)
    # The baseline's candidates and potentials start the scenario's solve: a scenario moves a few
    # weights and profiles, so most of the pairs its plan needs priced in for the baseline.
    plan = plan_network(
        scenario_network, scenario_components, weights, scenario.plan, warm=base_plan.warm_start
    )
    suggestions = suggest_all(scenario_network, scores, k=scenario.k)
    intervals = (
        plan_intervals(scenario_network, scenario_components, weights, scenario.plan, plan)
        if sensitivity
        else ()
    )
    return ScenarioResult(
        network=scenario_network,
        components=scenario_components,
        weights=weights,
        scores=scores,
        links=rank_links(scores, limit=scenario.links),
        suggestions=suggestions,
        plan=plan,
        baseline_plan=base_plan,
        diff=diff_results(base_scores, base_plan, scores, plan, limit=scenario.moves),
        sensitivity=intervals,
    )
