"""Benchmark: a matchmaking round over 10,000 + 10,000 enterprises, against baselines.

Run with ``.venv/bin/python bench/bench_rounds.py [--size 10000] [--k 20] [--b 3]``. Prints:

* candidate generation (every participant's k best partners, both ways), on the default threads
  and on one, against one exact partner search per participant (`search_partners`, timed on a
  sample and scaled);
* the round's solve on the candidate graph (LEMON's network simplex, the engine's) against
  OR-Tools' min-cost flow (the engine's solver until 2026-12-04) and scipy's HiGHS LP on the same
  graph, and against networkx's ``max_flow_min_cost`` on a smaller round's graph (it
  takes minutes at full size), with the objectives, which must agree;
* time slots (König edge colouring) and the whole round end to end (`propose_round`), and the
  part of it after the candidates (solve, slots, meetings: the round given its candidates);
* candidates, solve, after the candidates and the whole round beside the baseline commit
  (``--baseline``, default the engine before the latency work of issue 11), extracted with
  ``git archive``, and this tree again with ``OPENBLAS_NUM_THREADS=1`` (the screen holds BLAS to
  one thread itself since 2026-12-04: the two should agree within the noise), each timed by the
  same code in a process per run, turn and turn about, so that all see the same load; all rounds
  must have the same objective.

Populations come from the official generator (`matching.synthetic_enterprises`, fixed seed): the
first ``size`` enterprises of each side.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy
import scipy.sparse as sp
from measure import cpu_model, extract, has_commit, timed
from scipy.optimize import linprog

import matching.rounds
from matching import (
    Enterprise,
    EnterpriseModel,
    Population,
    Weights,
    assign_slots,
    build_population,
    candidate_pairs,
    generate_enterprises,
    load_dataset,
    network_from_dataset,
    propose_round,
    score_components,
    search_partners,
)
from matching._flow import integer_costs, solve_edges  # the engine's solver, timed on its own

ROOT = Path(__file__).resolve().parent.parent
#: The engine before the latency work (issue 11): the baseline the round is timed against.
BASELINE_REF = "d3a4643"
#: Issue 11's target for a 10,000 + 10,000 round with 20 candidates, on this machine when quiet.
TARGET_ROUND_MS = 500


def sides(size: int, seed: int) -> tuple[list[Enterprise], list[Enterprise]]:
    """The first `size` generated enterprises of each side."""
    found: dict[str, list[Enterprise]] = {"ne": [], "ea": []}
    for record in generate_enterprises(load_dataset(), 10**9, seed=seed):
        group = found[record["id"][:2]]
        if len(group) < size:
            group.append(
                Enterprise(
                    id=record["id"],
                    region=record["region"],
                    offers=record["offers"],
                    seeks=record["seeks"],
                    size=record["size"],
                    ownership=record["ownership"],
                )
            )
        if all(len(g) == size for g in found.values()):
            return found["ne"], found["ea"]
    raise AssertionError("the generator ran dry")


def search_baseline(
    model: EnterpriseModel,
    ne_list: list[Enterprise],
    northeast: Population,
    east: Population,
    k: int,
    sample: int,
) -> tuple[float, set[tuple[int, int]]]:
    """Seconds per northeast participant of one exact partner search each, and what it found."""
    net = model.network
    rows = np.linspace(0, len(northeast) - 1, sample).astype(int)
    by_id = {e.id: e for e in ne_list}
    found: set[tuple[int, int]] = set()
    start = time.perf_counter()
    for row in rows.tolist():
        enterprise = by_id[northeast.ids[row].decode()]
        features, coefficients = model.query(enterprise)
        multiplier = model.multiplier[net.northeast.index[enterprise.region]]
        for match in search_partners(east, features, coefficients, multiplier, k=k):
            found.add((row, match.row))
    return (time.perf_counter() - start) / sample, found


def lp_objective(
    rows: np.ndarray,
    cols: np.ndarray,
    weights: np.ndarray,
    cap_rows: np.ndarray,
    cap_cols: np.ndarray,
) -> float:
    """The b-matching LP on the edges (integral for bipartite graphs), solved by HiGHS."""
    e = len(rows)
    a = sp.vstack(
        [
            sp.csr_matrix((np.ones(e), (rows, np.arange(e))), shape=(len(cap_rows), e)),
            sp.csr_matrix((np.ones(e), (cols, np.arange(e))), shape=(len(cap_cols), e)),
        ]
    ).tocsr()
    res = linprog(
        -weights, A_ub=a, b_ub=np.concatenate([cap_rows, cap_cols]), bounds=(0, 1), method="highs"
    )
    assert res.status == 0, res.message
    return float(-res.fun)


def ortools_chosen(
    rows: np.ndarray,
    cols: np.ndarray,
    weights: np.ndarray,
    cap_rows: np.ndarray,
    cap_cols: np.ndarray,
) -> np.ndarray:
    """The engine's flow network solved by OR-Tools' cost scaling: the mask of chosen edges."""
    from ortools.graph.python import min_cost_flow  # a dev dependency, for this and the baseline

    n, m, e = len(cap_rows), len(cap_cols), len(rows)
    src, snk, supply = n + m, n + m + 1, int(cap_rows.sum())
    tails = np.concatenate([np.full(n, src), rows, np.arange(n, n + m), [src]]).astype(np.int32)
    heads = np.concatenate([np.arange(n), cols + n, np.full(m, snk), [snk]]).astype(np.int32)
    caps = np.concatenate([cap_rows, np.ones(e), cap_cols, [supply]]).astype(np.int64)
    costs = np.zeros(len(tails), dtype=np.int64)
    costs[n : n + e] = -integer_costs(weights, float(weights.max(initial=0.0)))
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_node_supply(src, supply)
    flow.set_node_supply(snk, -supply)
    assert flow.solve() == flow.OPTIMAL
    chosen: np.ndarray = flow.flows(np.arange(n, n + e, dtype=np.int32)) > 0
    return chosen


def networkx_objective(
    rows: np.ndarray,
    cols: np.ndarray,
    weights: np.ndarray,
    cap_rows: np.ndarray,
    cap_cols: np.ndarray,
) -> float:
    """The same flow network as the engine's, solved by networkx's max_flow_min_cost.

    The engine's network sends exactly sum(b) units from the source, some straight to the sink;
    an arc of that capacity into the source makes it the maximum flow networkx looks for.
    """
    costs = -integer_costs(weights, float(weights.max(initial=0.0))).astype(np.int64)
    graph = nx.DiGraph()
    supply = int(cap_rows.sum())
    graph.add_edge("origin", "s", capacity=supply, weight=0)
    graph.add_edge("s", "t", capacity=supply, weight=0)
    graph.add_edges_from(
        ("s", ("n", i), {"capacity": int(c), "weight": 0}) for i, c in enumerate(cap_rows)
    )
    graph.add_edges_from(
        (("e", j), "t", {"capacity": int(c), "weight": 0}) for j, c in enumerate(cap_cols)
    )
    graph.add_edges_from(
        (("n", i), ("e", j), {"capacity": 1, "weight": int(c)})
        for i, j, c in zip(rows.tolist(), cols.tolist(), costs.tolist(), strict=True)
    )
    flow = nx.max_flow_min_cost(graph, "origin", "t")
    pairs = zip(rows.tolist(), cols.tolist(), strict=True)
    chosen = [flow[("n", i)][("e", j)] > 0 for i, j in pairs]
    return float(weights[np.array(chosen, dtype=bool)].sum())


def after_candidates(
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray], round_: Callable[[], Any], repeat: int
) -> float:
    """Median time of `round_` (a `propose_round` call) given its candidates: what follows them.

    The round's own `candidate_pairs` is replaced by one that hands back `candidates`, so that
    the figure is the solve, the slots and the meetings, without the screen's time and noise.
    """
    screen = matching.rounds.candidate_pairs
    matching.rounds.candidate_pairs = lambda *args, **kwargs: candidates
    try:
        seconds, _ = timed(round_, repeat)
    finally:
        matching.rounds.candidate_pairs = screen
    return seconds


def engine_timing(size: int, k: int, b: int, seed: int, repeat: int) -> dict[str, float]:
    """Candidates, solve and the whole round, timed in this process on this tree's engine.

    Runs in a subprocess per source tree (`--engine-timing`), so that the baseline commit's
    engine is timed by the same code.
    """
    net = network_from_dataset(load_dataset())
    model = EnterpriseModel.build(net, score_components(net), Weights.resolve(net.taxonomy))
    ne_list, east_list = sides(size, seed)
    northeast = build_population(ne_list, net, "northeast")
    east = build_population(east_list, net, "east")
    t_candidates, (rows, cols, scores) = timed(
        lambda: candidate_pairs(model, northeast, east, k=k), repeat
    )
    cap = np.full(size, b, dtype=np.int64)
    t_solve, _ = timed(lambda: solve_edges(rows, cols, scores, cap, cap), repeat)
    t_round, result = timed(
        lambda: propose_round(model, northeast, east, b=b, candidates=k), repeat
    )
    t_after = after_candidates(
        (rows, cols, scores),
        lambda: propose_round(model, northeast, east, b=b, candidates=k),
        repeat,
    )
    return {
        "candidates": t_candidates,
        "solve": t_solve,
        "after": t_after,
        "round": t_round,
        "objective": result.objective,
        "meetings": len(result.meetings),
    }


def baseline_figures(args: argparse.Namespace, baseline: str | None) -> None:
    """This tree's round beside the baseline commit's, each timed in processes of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        # This tree twice: as it comes, and with BLAS on one thread from the start, which the
        # screen's own limit (`_blas_on_one_thread`) should match.
        trees: dict[str, tuple[Path, dict[str, str]]] = {
            "this tree": (ROOT, {}),
            "this tree, BLAS 1 thr.": (ROOT, {"OPENBLAS_NUM_THREADS": "1"}),
        }
        if baseline is not None:
            trees[f"baseline {baseline}"] = (extract(ROOT, baseline, Path(tmp) / "baseline"), {})
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for n in range(args.rounds):
            # Alternate which tree goes first, so that both see the same load.
            for name, (tree, extra) in list(trees.items())[:: 1 if n % 2 else -1]:
                timing = [str(x) for x in (args.size, args.k, args.b, args.seed, args.repeat)]
                out = subprocess.run(
                    [sys.executable, __file__, "--engine-timing", *timing],
                    env={"PYTHONPATH": str(tree), "PATH": "", **extra},
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                runs[name].append(json.loads(out))
    print(
        f"\nbeside the baseline ({args.rounds} processes per tree, each the median of "
        f"{args.repeat} runs)"
    )
    for name, done in runs.items():
        figures = {
            part: statistics.median(r[part] for r in done)
            for part in ("candidates", "solve", "after", "round")
        }
        rounds = sorted(r["round"] for r in done)
        print(
            f"  {name:22s} candidates {figures['candidates'] * 1e3:5.0f} ms, solve "
            f"{figures['solve'] * 1e3:5.0f} ms, after candidates {figures['after'] * 1e3:4.0f} ms, "
            f"propose_round {figures['round'] * 1e3:5.0f} ms "
            f"(runs {rounds[0] * 1e3:.0f}-{rounds[-1] * 1e3:.0f}); {done[0]['meetings']:,} "
            f"meetings, objective {done[0]['objective']:.6f}"
        )
    objectives = [done[0]["objective"] for done in runs.values()]
    assert all(math.isclose(o, objectives[0], rel_tol=1e-12) for o in objectives), objectives
    print(f"  target: propose_round <= {TARGET_ROUND_MS} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="participants on each side")
    parser.add_argument("--k", type=int, default=20, help="candidates per participant")
    parser.add_argument("--b", type=int, default=3, help="most meetings per enterprise")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nx-size", type=int, default=1_000, help="participants for networkx")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3, help="processes per tree vs baseline")
    parser.add_argument(
        "--baseline",
        default=BASELINE_REF,
        help="git commit measured beside this tree ('' for none)",
    )
    parser.add_argument("--engine-timing", nargs=5, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_timing:
        print(json.dumps(engine_timing(*args.engine_timing)))
        return
    n, k, b = args.size, args.k, args.b

    print(f"machine: {platform.machine()}, {cpu_model()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}")
    net = network_from_dataset(load_dataset())
    model = EnterpriseModel.build(net, score_components(net), Weights.resolve(net.taxonomy))
    t_generate, (ne_list, east_list) = timed(lambda: sides(n, args.seed), 1)
    t_build, (northeast, east) = timed(
        lambda: (
            build_population(ne_list, net, "northeast"),
            build_population(east_list, net, "east"),
        ),
        1,
    )
    print(
        f"round: {n:,} + {n:,} enterprises (generated in {t_generate:.1f} s, populations built "
        f"in {t_build * 1e3:.0f} ms), k = {k}, b = {b}\n"
    )

    t_candidates, (rows, cols, scores) = timed(
        lambda: candidate_pairs(model, northeast, east, k=k), args.repeat
    )
    t_one_thread, one_thread = timed(
        lambda: candidate_pairs(model, northeast, east, k=k, threads=1), args.repeat
    )
    assert all(np.array_equal(a, b) for a, b in zip(one_thread, (rows, cols, scores), strict=True))
    sample = min(n, 200)
    per_query, found = search_baseline(model, ne_list, northeast, east, k, sample)
    sampled = {int(r) for r, _ in found}
    ours = {(r, c) for r, c in zip(rows.tolist(), cols.tolist(), strict=True) if r in sampled}
    assert found <= ours, "a partner search found a pair the candidates lack"
    print("candidates (every participant's k best partners, both ways)")
    print(
        f"  candidate_pairs (float32 BLAS screen, exact) {t_candidates * 1e3:9.0f} ms  "
        f"{len(rows):,} pairs"
    )
    print(
        f"  the same on one thread                       {t_one_thread * 1e3:9.0f} ms  "
        "(the same pairs and scores)"
    )
    print(
        f"  one search_partners per participant          {per_query * 2 * n * 1e3:9.0f} ms  "
        f"(measured on {sample} northeast queries, scaled to {2 * n:,})"
    )
    speed_up = per_query * 2 * n / t_candidates
    print(f"  speed-up                                     {speed_up:9.1f} x\n")

    cap = np.full(n, b, dtype=np.int64)
    t_flow, (chosen, _) = timed(lambda: solve_edges(rows, cols, scores, cap, cap), args.repeat)
    flow_objective = math.fsum(scores[chosen].tolist())
    t_ortools, ortools = timed(lambda: ortools_chosen(rows, cols, scores, cap, cap), args.repeat)
    ortools_objective = math.fsum(scores[ortools].tolist())
    t_lp, lp = timed(lambda: lp_objective(rows, cols, scores, cap, cap), 1)
    print(f"solve on the candidate graph ({len(rows):,} edges, {n + n:,} nodes)")
    print(
        f"  LEMON network simplex (this engine)          {t_flow * 1e3:9.0f} ms  "
        f"objective {flow_objective:.6f}, {int(chosen.sum()):,} meetings"
    )
    print(
        f"  OR-Tools min-cost flow                       {t_ortools * 1e3:9.0f} ms  "
        f"objective {ortools_objective:.6f}  ({t_ortools / t_flow:.2f} x)"
    )
    print(
        f"  scipy HiGHS LP                               {t_lp * 1e3:9.0f} ms  "
        f"objective {lp:.6f}  ({t_lp / t_flow:.1f} x)"
    )
    assert math.isclose(flow_objective, lp, rel_tol=1e-8), "the solvers disagree"
    assert math.isclose(flow_objective, ortools_objective, rel_tol=1e-8), "the solvers disagree"

    small = min(n, args.nx_size)
    sub_ne = build_population(ne_list[:small], net, "northeast")
    sub_east = build_population(east_list[:small], net, "east")
    sub = candidate_pairs(model, sub_ne, sub_east, k=k)
    small_cap = np.full(small, b, dtype=np.int64)
    t_small, (small_chosen, _) = timed(lambda: solve_edges(*sub, small_cap, small_cap), args.repeat)
    t_nx, nx_objective = timed(lambda: networkx_objective(*sub, small_cap, small_cap), 1)
    small_objective = math.fsum(sub[2][small_chosen].tolist())
    print(f"  on a {small:,} + {small:,} round ({len(sub[0]):,} edges):")
    print(f"    LEMON network simplex                      {t_small * 1e3:9.1f} ms")
    print(
        f"    networkx max_flow_min_cost                 {t_nx * 1e3:9.0f} ms  "
        f"({t_nx / t_small:.0f} x), objectives {small_objective:.6f} and {nx_objective:.6f}"
    )
    assert math.isclose(small_objective, nx_objective, rel_tol=1e-8), "the solvers disagree"

    t_slots, slots = timed(lambda: assign_slots(rows[chosen], cols[chosen]), args.repeat)
    degree = max(np.bincount(rows[chosen]).max(), np.bincount(cols[chosen]).max())
    print(f"\nslots (König edge colouring of {int(chosen.sum()):,} meetings)")
    print(
        f"  assign_slots                                 {t_slots * 1e3:9.0f} ms  "
        f"{int(slots.max()) + 1} slots, the largest degree being {degree}"
    )

    t_round, result = timed(
        lambda: propose_round(model, northeast, east, b=b, candidates=k), args.repeat
    )
    t_after = after_candidates(
        (rows, cols, scores),
        lambda: propose_round(model, northeast, east, b=b, candidates=k),
        args.repeat,
    )
    print("\nend to end (propose_round: candidates, solve, slots)")
    print(
        f"  propose_round                                {t_round * 1e3:9.0f} ms  "
        f"{len(result.meetings):,} meetings in {result.slots} slots"
    )
    print(
        f"  of which after the candidates                {t_after * 1e3:9.0f} ms  "
        "(solve, slots and meetings, given the candidates)"
    )
    assert math.isclose(result.objective, flow_objective, rel_tol=1e-12)

    baseline = args.baseline or None
    if baseline is not None and not has_commit(ROOT, baseline):
        print(f"baseline {baseline} is not in this checkout's history: figures without it")
        baseline = None
    baseline_figures(args, baseline)


if __name__ == "__main__":
    main()
