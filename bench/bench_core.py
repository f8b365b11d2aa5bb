"""Benchmark: scoring and planning a synthetic 500 x 500 region graph, against baselines.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_core.py [--size 500]``). Prints:

* scoring every link: the vectorised engine against a naive per-pair Python scorer;
* a re-weighting: recombining the stored channel matrices against rescoring from profiles;
* a plan: the priced min-cost flow against solving the whole dense graph (LEMON, and HiGHS
  MILP), with their objectives so that one can see they agree.
"""

from __future__ import annotations

import argparse
import math
import platform

import numpy as np
import scipy
import scipy.sparse as sp
from measure import cpu_model, timed
from scipy.optimize import Bounds, LinearConstraint, milp

import matching._flow as flow
from matching import (
    Network,
    PlanSettings,
    Weights,
    plan_network,
    score_components,
    synthetic_network,
)
from matching.plan import allowed_pairs


def naive_scores(network: Network, weights: Weights, rows: range) -> list[list[float]]:
    """Score pairs one at a time in plain Python: the baseline the engine is measured against."""
    tax = network.taxonomy
    ne, ea = network.northeast, network.east
    w = weights.as_dict()

    def shares(matrix: np.ndarray) -> list[list[float]]:
        rows = matrix.tolist()
        return [[v / sum(r) if sum(r) else 0.0 for v in r] for r in rows]

    ne_s, ne_n, ne_f = shares(ne.strengths), shares(ne.needs), ne.factors.tolist()
    ea_s, ea_n, ea_f = shares(ea.strengths), shares(ea.needs), ea.factors.tolist()
    ties = network.ties.tolist()
    channels = [(c.id, c.synergy, tax.channel_sectors[c.id]) for c in tax.channels]
    out = []
    for i in rows:
        row = []
        for j in range(len(ea)):
            total = 0.0
            for cid, synergy, cols in channels:
                part = 0.0
                for s in cols:
                    part += min(ne_s[i][s], ea_n[j][s]) + min(ne_n[i][s], ea_s[j][s])
                    if synergy:
                        part += min(ne_s[i][s], ea_s[j][s])
                total += w[cid] * part / (3 if synergy else 2)
            a, b = ne_f[i], ea_f[j]
            total += w["resource_endowment"] * a[0] * (1 - b[0])
            total += w["industrial_base"] * a[1] * b[1]
            total += w["development_level"] * (1 - abs(a[2] - b[2]))
            total += w["cooperation_status"] * (0.5 * a[3] * b[3] + 0.5 * ties[i][j])
            row.append(total)
        out.append(row)
    return out


def milp_plan(scores: np.ndarray, eligible: np.ndarray, capacity: int) -> float:
    """The whole plan as a MILP solved by HiGHS (scipy.optimize.milp)."""
    rows, cols = np.nonzero(eligible & (scores > 0))
    e = len(rows)
    n, m = scores.shape
    a = sp.vstack(
        [
            sp.csr_matrix((np.ones(e), (rows, np.arange(e))), shape=(n, e)),
            sp.csr_matrix((np.ones(e), (cols, np.arange(e))), shape=(m, e)),
        ]
    )
    res = milp(
        -scores[rows, cols],
        constraints=LinearConstraint(a, ub=np.full(n + m, capacity)),
        integrality=np.ones(e),
        bounds=Bounds(0, 1),
    )
    return float(-res.fun)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=500, help="regions on each side")
    parser.add_argument("--capacity", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.size

    print(f"machine: {platform.processor() or platform.machine()}, {cpu_model()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}")
    net = synthetic_network(n, n, seed=42)
    weights = Weights.resolve(net.taxonomy)
    print(f"graph: {n} x {n} regions, {n * n:,} links, {len(net.taxonomy.sectors)} sectors\n")

    t_vec, comps = timed(lambda: score_components(net), args.repeat)
    t_combine, scores = timed(lambda: comps.combine(weights), args.repeat)
    sample = range(min(n, 25))
    t_naive_sample, naive = timed(lambda: naive_scores(net, weights, sample), 1)
    assert np.allclose(np.array(naive), scores[: len(sample)]), "naive and vectorised disagree"
    t_naive = t_naive_sample * n / len(sample)
    print("scoring every link")
    print(f"  vectorised (all channel and factor matrices) {t_vec * 1e3:9.1f} ms")
    print(f"  + combining them for one set of weights      {t_combine * 1e3:9.1f} ms")
    print(
        f"  naive per-pair Python scorer                 {t_naive * 1e3:9.0f} ms "
        f"(measured on {len(sample)} rows, scaled to {n})"
    )
    print(f"  speed-up                                     {t_naive / (t_vec + t_combine):9.0f} x")
    reweighted = Weights.resolve(net.taxonomy, {"agriculture": 0.4})
    t_reweight, _ = timed(lambda: comps.combine(reweighted), args.repeat)
    t_rescore, _ = timed(lambda: score_components(net).combine(reweighted), args.repeat)
    print("re-weighting (agriculture 0.4)")
    print(f"  recombine stored matrices                    {t_reweight * 1e3:9.1f} ms")
    print(f"  rescore from profiles                        {t_rescore * 1e3:9.1f} ms")
    print(f"  ratio                                        {t_rescore / t_reweight:9.1f} x\n")

    plan_settings = PlanSettings(capacity=args.capacity)
    t_plan, plan = timed(lambda: plan_network(net, comps, weights, plan_settings), args.repeat)
    eligible = allowed_pairs(net)
    cap = np.full(n, args.capacity)
    whole = flow._SOLVE_WHOLE_BELOW
    flow._SOLVE_WHOLE_BELOW = math.inf  # type: ignore[assignment]
    try:
        t_whole, (chosen, _) = timed(lambda: flow.solve_dense(scores, eligible, cap, cap), 3)
    finally:
        flow._SOLVE_WHOLE_BELOW = whole
    whole_objective = float(scores[chosen].sum())
    t_milp, milp_objective = timed(lambda: milp_plan(scores, eligible, args.capacity), 1)
    print(f"plan (capacity {args.capacity} per region, existing ties excluded)")
    print(
        f"  priced min-cost flow (this engine)           {t_plan * 1e3:9.1f} ms  "
        f"objective {plan.objective:.6f}, {len(plan.pairs)} pairs"
    )
    print(
        f"  min-cost flow on the whole dense graph       {t_whole * 1e3:9.1f} ms  "
        f"objective {whole_objective:.6f}"
    )
    print(
        f"  HiGHS MILP on the whole graph                {t_milp * 1e3:9.1f} ms  "
        f"objective {milp_objective:.6f}"
    )
    assert math.isclose(plan.objective, milp_objective, rel_tol=1e-8), "plans disagree"


if __name__ == "__main__":
    main()
