"""Small hand-built networks with exact expected answers."""

from __future__ import annotations

import numpy as np

from matching import Network, Side, Taxonomy
from matching.enterprises import Enterprise, Population, build_population
from matching.taxonomy import FACTOR_IDS, Channel, Factor, Sector


def tiny_taxonomy() -> Taxonomy:
    """Two channels: `make` (sectors x, y) and `grow` (sector z, synergy)."""
    return Taxonomy(
        version="tiny",
        channels=(
            Channel("make", "docking", "Make", "造", "", default_weight=0.5),
            Channel("grow", "docking", "Grow", "长", "", default_weight=0.3, synergy=True),
        ),
        sectors=(
            Sector("x", "make", "X", "X"),
            Sector("y", "make", "Y", "Y"),
            Sector("z", "grow", "Z", "Z"),
        ),
        factors=tuple(Factor(f, f, f, "", "", default_weight=0.05) for f in FACTOR_IDS),
    )


def side(
    prefix: str,
    strengths: list[list[float]],
    needs: list[list[float]],
    factors: list[list[float]],
    levels: list[str],
) -> Side:
    return Side(
        ids=tuple(f"{prefix}{i}" for i in range(len(strengths))),
        levels=tuple(levels),
        strengths=np.array(strengths, dtype=float),
        needs=np.array(needs, dtype=float),
        factors=np.array(factors, dtype=float),
    )


def tiny_network() -> Network:
    """Two northeast regions, two eastern ones; n0-e0 already tied (strength 0.6)."""
    ne = side(
        "n",
        strengths=[[0.8, 0.0, 0.5], [0.0, 0.4, 0.0]],
        needs=[[0.0, 0.6, 0.0], [0.2, 0.0, 0.9]],
        factors=[[0.9, 0.8, 0.3, 0.5], [0.4, 0.2, 0.6, 1.0]],
        levels=["province", "city"],
    )
    ea = side(
        "e",
        strengths=[[0.0, 1.0, 0.6], [0.7, 0.0, 0.0]],
        needs=[[0.5, 0.0, 0.2], [0.0, 0.3, 0.0]],
        factors=[[0.1, 0.5, 0.9, 0.4], [0.3, 0.7, 0.5, 0.0]],
        levels=["province", "province"],
    )
    ties = np.array([[0.6, 0.0], [0.0, 0.0]])
    return Network(taxonomy=tiny_taxonomy(), northeast=ne, east=ea, ties=ties, existing=ties > 0)


# Enterprise populations ---------------------------------------------------------------------

# Coarse intensities make equal scores common, so the tie-break by id is exercised.
COARSE = (0.25, 0.5, 0.75, 1.0)


def random_enterprises(
    net,
    side: str,
    n: int,
    rng: np.random.Generator,
    prefix: str,
    *,
    most_sectors: int = 4,
    coarse: bool = True,
    scale: float = 1.0,
    templates: int | None = None,
) -> list[Enterprise]:
    """Random profiles of 0..most_sectors offers and seeks (some blank), ids in random order.

    With `templates`, each enterprise copies the region and profile of one of that many, so
    many profiles are equal.
    """
    tax = net.taxonomy
    regions = net.side(side).ids

    def profile() -> dict[str, float]:
        count = int(rng.integers(0, most_sectors + 1))
        sectors = rng.choice(len(tax.sectors), size=count, replace=False)
        values = rng.choice(COARSE, size=count) if coarse else rng.uniform(0.05, 1.0, size=count)
        return {tax.sector_ids[s]: float(v) * scale for s, v in zip(sectors, values, strict=True)}

    shapes = [(str(rng.choice(regions)), profile(), profile()) for _ in range(templates or n)]
    picks = rng.integers(0, len(shapes), size=n) if templates else np.arange(n)
    return [
        Enterprise(f"{prefix}{int(rng.integers(0, 10**6)):06d}-{i}", *shapes[pick])
        for i, pick in enumerate(picks.tolist())
    ]


def brute_scores(model, northeast: list[Enterprise], east: Population) -> np.ndarray:
    """Every pair's score the way partner search scores it: model.query against the features."""
    net = model.network
    out = np.zeros((len(northeast), len(east)))
    for i, enterprise in enumerate(sorted(northeast, key=lambda e: e.id)):
        features, coefficients = model.query(enterprise)
        dense = np.zeros(model.n_features)
        dense[features] = coefficients
        multiplier = model.multiplier[net.northeast.index[enterprise.region]]
        out[i] = (east.features @ dense) * multiplier[east.region]
    return out


def brute_top_k(scores: np.ndarray, k: int) -> set[tuple[int, int]]:
    """Union of every row's and column's k best positive pairs, equal scores by index."""
    pairs: set[tuple[int, int]] = set()
    for i, row in enumerate(scores):
        positive = np.flatnonzero(row > 0)
        best = positive[np.lexsort((positive, -row[positive]))[:k]]
        pairs |= {(i, int(j)) for j in best}
    for j, col in enumerate(scores.T):
        positive = np.flatnonzero(col > 0)
        best = positive[np.lexsort((positive, -col[positive]))[:k]]
        pairs |= {(int(i), j) for i in best}
    return pairs


def populations(model, seed: int, n: int, m: int, **options):
    rng = np.random.default_rng(seed)
    net = model.network
    ne_list = random_enterprises(net, "northeast", n, rng, "n", **options)
    east_list = random_enterprises(net, "east", m, rng, "e", **options)
    return (
        ne_list,
        east_list,
        build_population(ne_list, net, "northeast"),
        build_population(east_list, net, "east"),
    )


# Candidates ------------------------------------------------------------------------------------


def pair_counts(pairs) -> dict[str, int]:
    counts: dict[str, int] = {}
    for a, x in pairs:
        counts[a] = counts.get(a, 0) + 1
        counts[x] = counts.get(x, 0) + 1
    return counts


def check_slots(pairs, slots, n_slots) -> None:
    """No enterprise twice in a slot, and exactly as many slots as the busiest enterprise."""
    seen = set()
    for (a, x), slot in zip(pairs, slots, strict=True):
        assert ("ne", a, slot) not in seen and ("e", x, slot) not in seen
        seen |= {("ne", a, slot), ("e", x, slot)}
    degree = max(pair_counts(pairs).values(), default=0)
    assert n_slots == degree
    assert set(slots) == set(range(degree))
