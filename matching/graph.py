"""The weighted bipartite graph of the network, for networkx users and graph tools."""

from __future__ import annotations

import networkx as nx
import numpy as np

from matching.network import Network
from matching.scoring import ComponentScores, Weights

__all__ = ["build_graph", "graphml_ready"]


def build_graph(
    network: Network,
    components: ComponentScores,
    weights: Weights,
    *,
    weight: str = "score",
    min_score: float = 0.0,
) -> nx.Graph:
    """A new bipartite graph: regions as nodes, scored pairs as edges.

    Nodes carry ``bipartite`` (0 northeast, 1 east), ``side`` and ``level``. Every pair scoring at
    least `min_score` is an edge carrying its score under the attribute named `weight`, its
    ``contributions`` (component id to weighted value; they add up to the score), ``existing``
    and ``tie_strength``.

    Examples
    --------
    >>> from matching.network import synthetic_network
    >>> from matching.scoring import score_components
    >>> net = synthetic_network(2, 3, seed=0)
    >>> g = build_graph(net, score_components(net), Weights.resolve(net.taxonomy))
    >>> g.number_of_nodes(), g.number_of_edges()
    (5, 6)
    >>> data = g.edges["ne0", "ea1"]
    >>> abs(sum(data["contributions"].values()) - data["score"]) < 1e-12
    True
    """
    graph = nx.Graph()
    for code, side_name in enumerate(("northeast", "east")):
        side = network.side(side_name)
        graph.add_nodes_from(
            (region_id, {"bipartite": code, "side": side_name, "level": level})
            for region_id, level in zip(side.ids, side.levels, strict=True)
        )
    contributions = weights.vector[:, None, None] * components.raw
    scores = contributions.sum(axis=0)
    active = [k for k, w in enumerate(weights.vector) if w > 0]
    rows, cols = np.nonzero(scores >= min_score)
    ne_ids, east_ids = network.northeast.ids, network.east.ids
    graph.add_edges_from(
        (
            ne_ids[i],
            east_ids[j],
            {
                weight: float(scores[i, j]),
                "contributions": {
                    components.component_ids[k]: float(contributions[k, i, j]) for k in active
                },
                "existing": bool(network.existing[i, j]),
                "tie_strength": float(network.ties[i, j]),
            },
        )
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True)
    )
    return graph


def graphml_ready(graph: nx.Graph) -> nx.Graph:
    """A copy whose edge ``contributions`` dicts are flattened to ``contribution_<id>`` floats.

    GraphML attributes are scalars; the original graph is left as it is.
    """
    flat = nx.Graph()
    flat.add_nodes_from(graph.nodes(data=True))
    for u, v, data in graph.edges(data=True):
        attrs = {k: val for k, val in data.items() if k != "contributions"}
        attrs.update({f"contribution_{c}": x for c, x in data.get("contributions", {}).items()})
        flat.add_edge(u, v, **attrs)
    return flat
