"""Reciprocal, explainable link scores.

For a northeast region i and an eastern region j, every component k (a channel or a factor) has a
raw value x_k(i, j) in [0, 1]; the link's score is linear in the weights::

    score(i, j) = sum_k w_k * x_k(i, j)

A channel's raw value averages, over its sectors, the products of one side's strength with the
other side's need, in both directions, and for channels that dock like with like (synergy) also
the product of the two strengths::

    x_c(i, j) = sum_{s in c} [ S_i,s N_j,s + S_j,s N_i,s (+ S_i,s S_j,s) ] / (|c| * directions_c)

The factors are pair terms of the regions' factor values (see the taxonomy's ``formula``).

Because scores are linear in the weights, we compute the K raw matrices once (`score_components`)
and recombine them for any weights with one tensor product; a re-weighting never rescores profiles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from matching._types import FloatArray
from matching._validate import check_number
from matching.network import Network
from matching.taxonomy import Taxonomy

__all__ = [
    "DIRECTIONS",
    "MAX_WEIGHT",
    "ComponentScores",
    "Contribution",
    "LinkExplanation",
    "ScoredLink",
    "Term",
    "Weights",
    "explain_link",
    "score_components",
    "scored_links",
]

#: Largest weight accepted: far beyond any meaningful re-weighting, far below float overflow.
MAX_WEIGHT = 1e6

#: Directions of a sector term: the northeast's strength meeting the east's need, the reverse,
#: and (for synergy channels) both strong in the same sector.
DIRECTIONS = ("northeast_to_east", "east_to_northeast", "synergy")


@dataclass(frozen=True)
class Weights:
    """A complete, validated set of component weights.

    Build it with `Weights.resolve`, which starts from the taxonomy's defaults and applies the
    given changes.

    Examples
    --------
    >>> from matching.taxonomy import load_taxonomy
    >>> tax = load_taxonomy()
    >>> w = Weights.resolve(tax, {"agriculture": 0.3})
    >>> w["agriculture"], w["equipment"]
    (0.3, 0.2)
    >>> Weights.resolve(tax, {"tourism": 1.0})
    Traceback (most recent call last):
    ...
    ValueError: `weights`: unknown component 'tourism'; expected a channel (...) or a factor (...)
    """

    component_ids: tuple[str, ...]
    vector: FloatArray

    @classmethod
    def resolve(cls, taxonomy: Taxonomy, changes: Mapping[str, float] | None = None) -> Weights:
        """The taxonomy's default weights with `changes` applied, validated."""
        values = taxonomy.default_weights()
        for name, value in (changes or {}).items():
            if name not in values:
                raise ValueError(
                    f"`weights`: unknown component {name!r}; expected a channel "
                    f"({', '.join(taxonomy.channel_ids)}) or a factor "
                    f"({', '.join(taxonomy.factor_ids)})"
                )
            values[name] = check_number(f"weights.{name}", value, minimum=0.0, maximum=MAX_WEIGHT)
        vector = np.array([values[c] for c in taxonomy.component_ids], dtype=np.float64)
        if not vector.any():
            raise ValueError("`weights`: all weights are zero; at least one must be positive")
        vector.setflags(write=False)
        return cls(component_ids=taxonomy.component_ids, vector=vector)

    def __getitem__(self, component: str) -> float:
        return float(self.vector[self.component_ids.index(component)])

    def as_dict(self) -> dict[str, float]:
        """Component id to weight."""
        return dict(zip(self.component_ids, self.vector.tolist(), strict=True))

    @property
    def total(self) -> float:
        """The sum of the weights: the highest score any pair could reach."""
        return float(self.vector.sum())


@dataclass(frozen=True, eq=False)
class ComponentScores:
    """The raw value of every component for every pair: `raw[k, i, j]` = x_k(i, j) in [0, 1]."""

    component_ids: tuple[str, ...]
    raw: FloatArray

    def combine(self, weights: Weights) -> FloatArray:
        """Scores of all pairs under `weights`: sum_k w_k x_k, one tensor product."""
        return np.tensordot(weights.vector, self.raw, axes=1)


@dataclass(frozen=True)
class ScoredLink:
    """A scored pair of regions: `score` is the sum of `contributions` (components weighted > 0)."""

    northeast: str
    east: str
    score: float
    existing: bool
    contributions: Mapping[str, float]


def scored_links(
    network: Network,
    components: ComponentScores,
    weights: Weights,
    rows: ArrayLike,
    cols: ArrayLike,
) -> list[ScoredLink]:
    """The links (rows[n], cols[n]) with their contributions, all at once.

    Examples
    --------
    >>> from matching.network import synthetic_network
    >>> net = synthetic_network(3, 3, seed=2)
    >>> comps = score_components(net)
    >>> w = Weights.resolve(net.taxonomy, {"agriculture": 0.0})
    >>> (link,) = scored_links(net, comps, w, [0], [1])
    >>> link.northeast, link.east, "agriculture" in link.contributions
    ('ne0', 'ea1', False)
    >>> bool(abs(link.score - comps.combine(w)[0, 1]) < 1e-12)
    True
    """
    i = np.asarray(rows, dtype=np.int64)
    j = np.asarray(cols, dtype=np.int64)
    active = np.flatnonzero(weights.vector > 0)
    names = [components.component_ids[k] for k in active.tolist()]
    values = (weights.vector[active, None] * components.raw[active][:, i, j]).T.tolist()
    existing = network.existing[i, j].tolist()
    ne_ids, east_ids = network.northeast.ids, network.east.ids
    return [
        ScoredLink(
            northeast=ne_ids[a],
            east=east_ids[b],
            score=sum(parts),
            existing=tie,
            contributions=dict(zip(names, parts, strict=True)),
        )
        for a, b, parts, tie in zip(i.tolist(), j.tolist(), values, existing, strict=True)
    ]


def score_components(network: Network) -> ComponentScores:
    """Raw component matrices of every pair of `network`, vectorised.

    Examples
    --------
    >>> from matching.network import synthetic_network
    >>> comps = score_components(synthetic_network(4, 5, seed=0))
    >>> comps.raw.shape
    (11, 4, 5)
    >>> bool(((comps.raw >= 0) & (comps.raw <= 1)).all())
    True
    """
    tax = network.taxonomy
    ne, ea = network.northeast, network.east
    blocks: list[FloatArray] = []
    for channel in tax.channels:
        cols = list(tax.channel_sectors[channel.id])
        s_ne, n_ne = ne.strengths[:, cols], ne.needs[:, cols]
        s_ea, n_ea = ea.strengths[:, cols], ea.needs[:, cols]
        total = s_ne @ n_ea.T + n_ne @ s_ea.T
        directions = 2
        if channel.synergy:
            total += s_ne @ s_ea.T
            directions = 3
        blocks.append(total / (len(cols) * directions))
    blocks.extend(_factor_matrices(network))
    raw = np.stack(blocks)
    raw.setflags(write=False)
    return ComponentScores(component_ids=tax.component_ids, raw=raw)


def _factor_matrices(network: Network) -> list[FloatArray]:
    """The four factor pair terms, in `FACTOR_IDS` order (formulas are in the taxonomy file)."""
    f_ne, f_ea = network.northeast.factors, network.east.factors
    resource = np.outer(f_ne[:, 0], 1.0 - f_ea[:, 0])
    industrial = np.outer(f_ne[:, 1], f_ea[:, 1])
    development = 1.0 - np.abs(f_ne[:, 2][:, None] - f_ea[:, 2][None, :])
    cooperation = 0.5 * np.outer(f_ne[:, 3], f_ea[:, 3]) + 0.5 * network.ties
    return [resource, industrial, development, cooperation]


@dataclass(frozen=True)
class Term:
    """One non-negative part of a contribution, labelled with its sector and direction.

    `northeast_value` and `east_value` are the profile values the term multiplies (for a factor,
    the two regions' factor values; for the ``ties`` term, the tie strength on both).
    """

    sector: str | None
    direction: str
    value: float
    northeast_value: float
    east_value: float


@dataclass(frozen=True)
class Contribution:
    """A component's weighted contribution to a link: the sum of its terms."""

    component: str
    kind: str
    weight: float
    value: float
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class LinkExplanation:
    """A link's score and every part of it; `score` is the sum of the contributions' values."""

    northeast: str
    east: str
    score: float
    existing: bool
    contributions: tuple[Contribution, ...]


def explain_link(network: Network, i: int, j: int, weights: Weights) -> LinkExplanation:
    """Explain the score of pair (i, j): contributions, each split into its sector terms.

    Components with a zero weight are left out; terms that are zero are left out.

    Examples
    --------
    >>> from matching.network import synthetic_network
    >>> net = synthetic_network(3, 3, seed=2)
    >>> w = Weights.resolve(net.taxonomy)
    >>> ex = explain_link(net, 0, 1, w)
    >>> total = score_components(net).combine(w)[0, 1]
    >>> bool(abs(ex.score - total) < 1e-12)
    True
    >>> all(t.value > 0 for c in ex.contributions for t in c.terms)
    True
    """
    tax = network.taxonomy
    ne, ea = network.northeast, network.east
    contributions: list[Contribution] = []
    for channel in tax.channels:
        weight = weights[channel.id]
        if weight <= 0:
            continue
        cols = tax.channel_sectors[channel.id]
        directions = 3 if channel.synergy else 2
        scale = weight / (len(cols) * directions)
        terms: list[Term] = []
        for col in cols:
            sector = tax.sector_ids[col]
            pairs = [
                ("northeast_to_east", ne.strengths[i, col], ea.needs[j, col]),
                ("east_to_northeast", ne.needs[i, col], ea.strengths[j, col]),
            ]
            if channel.synergy:
                pairs.append(("synergy", ne.strengths[i, col], ea.strengths[j, col]))
            terms.extend(
                Term(sector, direction, value, float(a), float(b))
                for direction, a, b in pairs
                if (value := float(scale * a * b)) > 0
            )
        contributions.append(_contribution(channel.id, "channel", weight, terms))
    f_ne, f_ea = ne.factors[i], ea.factors[j]
    tie = float(network.ties[i, j])
    factor_terms = {
        "resource_endowment": [("northeast_to_east", f_ne[0] * (1 - f_ea[0]), f_ne[0], f_ea[0])],
        "industrial_base": [("mutual", f_ne[1] * f_ea[1], f_ne[1], f_ea[1])],
        "development_level": [("mutual", 1 - abs(f_ne[2] - f_ea[2]), f_ne[2], f_ea[2])],
        "cooperation_status": [
            ("mutual", 0.5 * f_ne[3] * f_ea[3], f_ne[3], f_ea[3]),
            ("ties", 0.5 * tie, tie, tie),
        ],
    }
    for factor in tax.factor_ids:
        weight = weights[factor]
        if weight <= 0:
            continue
        terms = [
            Term(None, direction, value, float(a), float(b))
            for direction, x, a, b in factor_terms[factor]
            if (value := weight * float(x)) > 0
        ]
        contributions.append(_contribution(factor, "factor", weight, terms))
    return LinkExplanation(
        northeast=ne.ids[i],
        east=ea.ids[j],
        score=math.fsum(c.value for c in contributions),
        existing=bool(network.existing[i, j]),
        contributions=tuple(contributions),
    )


def _contribution(component: str, kind: str, weight: float, terms: list[Term]) -> Contribution:
    return Contribution(
        component=component,
        kind=kind,
        weight=weight,
        value=math.fsum(t.value for t in terms),
        terms=tuple(terms),
    )
