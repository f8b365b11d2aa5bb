"""Small hand-built networks with exact expected answers."""

from __future__ import annotations

import numpy as np

from matching import Network, Side, Taxonomy
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
