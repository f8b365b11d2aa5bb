"""Reciprocal, explainable link scores.

For a northeast region i and an eastern region j, every component k (a channel or a factor) has a
raw value x_k(i, j) in [0, 1]; the link's score is linear in the weights::

    score(i, j) = sum_k w_k * x_k(i, j)

**Channels.** A region's strengths and needs are first turned into shares of their own totals,
sigma_r(s) = S_r,s / sum_t S_r,t and nu_r(s) = N_r,s / sum_t N_r,t, so that what counts is the
shape of a profile, not its scale: a region listing every strength higher is not a better partner
for that. A channel's raw value is then the overlap of one side's strength shares with the other
side's need shares over the channel's sectors, both ways, and for channels where the plan asks
for joint development (``synergy``) also the overlap of the two strength profiles::

    x_c(i, j) = sum_{s in c} [ min(sigma_i, nu_j) + min(sigma_j, nu_i) (+ min(sigma_i, sigma_j)) ]
                / directions_c

Summed over all channels, the first part is Michaely's trade complementarity index
1 - 1/2 sum_s |nu_j(s) - sigma_i(s)| of i's strengths against j's needs (where both have any),
the second the same the other way, and the synergy part the Finger-Kreinin similarity of the two
strength profiles; each is split by channel and averaged over its directions, so x_c is in [0, 1].

The factors are pair terms of the regions' factor values (see the taxonomy's ``formula``). The
cooperation factor also counts the ties in force, t(i, j), and the outcome evidence o(i, j) of
the outcomes dated by the evaluation date (`matching.outcomes`): (c_i c_j + t + o (1 - t)) / 2,
so outcomes raise it where ties leave room, and change nothing for an official pair (t = 1).

Because scores are linear in the weights, we compute the K raw matrices once (`score_components`)
and recombine them for any weights with one tensor product; a re-weighting never rescores profiles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.distance import cdist

from matching._types import FloatArray
from matching._validate import check_number
from matching.network import Network
from matching.outcomes import DrawnOutcome, OutcomeEvidence
from matching.taxonomy import Taxonomy

__all__ = [
    "DIRECTIONS",
    "MAX_WEIGHT",
    "MIN_WEIGHT",
    "ComponentScores",
    "Contribution",
    "LinkExplanation",
    "OutcomeTerm",
    "ScoredLink",
    "Term",
    "Weights",
    "explain_link",
    "outcome_terms",
    "overlap",
    "score_components",
    "scored_links",
]

#: Largest weight accepted: far beyond any meaningful re-weighting, far below float overflow.
MAX_WEIGHT = 1e6
#: Smallest positive weight accepted (0 switches a component off). A weight of 1e-320 is no
#: re-weighting anyone means: it is a typo or a probe, and weights 1e12 apart already strain
#: the float arithmetic of scores and plans.
MIN_WEIGHT = 1e-6

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
    >>> Weights.resolve(tax, {"agriculture": 1e-9})
    Traceback (most recent call last):
    ...
    ValueError: `weights.agriculture` must be 0 or at least 1e-06, got 1e-09
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
            if 0 < values[name] < MIN_WEIGHT:
                raise ValueError(
                    f"`weights.{name}` must be 0 or at least {MIN_WEIGHT:g}, got {value!r}"
                )
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


def overlap(a: FloatArray, b: FloatArray, *, out: FloatArray | None = None) -> FloatArray:
    """``sum_s min(a[i, s], b[j, s])`` for every row i of `a` and row j of `b`.

    Computed as ``(sum a_i + sum b_j - |a_i - b_j|_1) / 2``, with scipy's city-block distance in
    C and in place: the same value without an (n, m, s) temporary, several times faster than
    numpy's minimum. With `out`, the overlap is added to it.

    Examples
    --------
    >>> overlap(np.array([[0.5, 0.5], [1.0, 0.0]]), np.array([[0.2, 0.8]])).round(12).tolist()
    [[0.7], [0.2]]
    """
    n, m = len(a), len(b)
    if out is None:
        out = np.zeros((n, m))
    if a.shape[1] == 0 or n == 0 or m == 0:
        return out
    part = cdist(a, b, "cityblock")
    np.subtract(a.sum(axis=1)[:, None], part, out=part)
    part += b.sum(axis=1)[None, :]
    # Rounding can leave -1e-17 where the true overlap is 0.
    np.maximum(part, 0.0, out=part)
    part *= 0.5
    out += part
    return out


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
    # Every matrix is written in place into its slice of the result: no block is copied.
    raw = np.zeros((len(tax.component_ids), len(ne), len(ea)))
    for k, channel in enumerate(tax.channels):
        cols = list(tax.channel_sectors[channel.id])
        s_ne, n_ne = ne.strength_shares[:, cols], ne.need_shares[:, cols]
        s_ea, n_ea = ea.strength_shares[:, cols], ea.need_shares[:, cols]
        overlap(s_ne, n_ea, out=raw[k])
        overlap(n_ne, s_ea, out=raw[k])
        directions = 2
        if channel.synergy:
            overlap(s_ne, s_ea, out=raw[k])
            directions = 3
        raw[k] /= directions
    _factor_matrices(network, raw[len(tax.channels) :])
    raw.setflags(write=False)
    return ComponentScores(component_ids=tax.component_ids, raw=raw)


def _factor_matrices(network: Network, out: FloatArray) -> None:
    """The four factor pair terms into `out`, in `FACTOR_IDS` order (formulas: the taxonomy)."""
    f_ne, f_ea = network.northeast.factors, network.east.factors
    resource, industrial, development, cooperation = out
    np.multiply(f_ne[:, 0][:, None], 1.0 - f_ea[:, 0][None, :], out=resource)
    np.multiply(f_ne[:, 1][:, None], f_ea[:, 1][None, :], out=industrial)
    np.subtract(f_ne[:, 2][:, None], f_ea[:, 2][None, :], out=development)
    np.abs(development, out=development)
    np.subtract(1.0, development, out=development)
    np.multiply(f_ne[:, 3][:, None], f_ea[:, 3][None, :], out=cooperation)
    cooperation += network.ties
    if network.evidence is not None:
        # Outcomes add what the ties leave: t + o (1 - t), the probabilistic sum, in [0, 1].
        cooperation += network.evidence * (1.0 - network.ties)
    cooperation *= 0.5


@dataclass(frozen=True)
class Term:
    """One non-negative part of a contribution, labelled with its sector and direction.

    For a channel's sector term, `northeast_value` and `east_value` are the two profile values
    that meet (a strength and a need, or two strengths), and `northeast_share` and `east_share`
    the same as shares of their region's totals: the term is the channel's weight over its
    directions times the smaller share. For a factor they are the two regions' factor values
    (for the ``ties`` term, the tie strength on both; for the ``outcomes`` term, the outcome
    evidence on both) and the shares are None.
    """

    sector: str | None
    direction: str
    value: float
    northeast_value: float
    east_value: float
    northeast_share: float | None = None
    east_share: float | None = None


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
        scale = weight / directions
        terms: list[Term] = []
        for col in cols:
            sector = tax.sector_ids[col]
            pairs = [
                ("northeast_to_east", ne.strengths, ne.strength_shares, ea.needs, ea.need_shares),
                ("east_to_northeast", ne.needs, ne.need_shares, ea.strengths, ea.strength_shares),
            ]
            if channel.synergy:
                pairs.append(
                    ("synergy", ne.strengths, ne.strength_shares, ea.strengths, ea.strength_shares)
                )
            for direction, a, a_share, b, b_share in pairs:
                x, y = float(a_share[i, col]), float(b_share[j, col])
                value = scale * min(x, y)
                if value > 0:
                    terms.append(
                        Term(sector, direction, value, float(a[i, col]), float(b[j, col]), x, y)
                    )
        contributions.append(_contribution(channel.id, "channel", weight, terms))
    f_ne, f_ea = ne.factors[i], ea.factors[j]
    tie = float(network.ties[i, j])
    evidence = 0.0 if network.evidence is None else float(network.evidence[i, j])
    factor_terms = {
        "resource_endowment": [("northeast_to_east", f_ne[0] * (1 - f_ea[0]), f_ne[0], f_ea[0])],
        "industrial_base": [("mutual", f_ne[1] * f_ea[1], f_ne[1], f_ea[1])],
        "development_level": [("mutual", 1 - abs(f_ne[2] - f_ea[2]), f_ne[2], f_ea[2])],
        "cooperation_status": [
            ("mutual", 0.5 * f_ne[3] * f_ea[3], f_ne[3], f_ea[3]),
            ("ties", 0.5 * tie, tie, tie),
            ("outcomes", 0.5 * evidence * (1.0 - tie), evidence, evidence),
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


@dataclass(frozen=True)
class OutcomeTerm:
    """An outcome a link's score drew on, and what it adds to the score."""

    drawn: DrawnOutcome
    value: float


def outcome_terms(
    network: Network, evidence: OutcomeEvidence, i: int, j: int, weights: Weights
) -> tuple[OutcomeTerm, ...]:
    """The outcomes pair (i, j)'s score drew on, newest first, each with its part of the score.

    An outcome adds the cooperation weight x (1 - t) x its evidence / 2; together they make the
    ``outcomes`` term of the cooperation contribution (`explain_link`). `evidence` must be the
    one `network` was built with.

    Examples
    --------
    >>> import datetime
    >>> from matching.dataset import load_dataset
    >>> from matching.network import network_from_dataset
    >>> from matching.outcomes import Outcome, outcome_evidence
    >>> ds, day = load_dataset(), datetime.date(2019, 1, 1)
    >>> found = [Outcome("harbin", "beijing", "projects_signed", 3, day, ("equipment",), "s")]
    >>> net = network_from_dataset(ds, as_of=day, outcomes=found)
    >>> ev = outcome_evidence(found, net.northeast.ids, net.east.ids, as_of=day)
    >>> w = Weights.resolve(net.taxonomy)
    >>> i, j = net.northeast.index["harbin"], net.east.index["beijing"]
    >>> [round(t.value, 4) for t in outcome_terms(net, ev, i, j, w)]
    [0.01]
    """
    scale = 0.5 * weights["cooperation_status"] * (1.0 - float(network.ties[i, j]))
    return tuple(OutcomeTerm(d, scale * d.evidence) for d in evidence.of_pair(i, j))
