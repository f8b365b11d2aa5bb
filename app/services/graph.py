"""The weighted bipartite graph of the active dataset, as a networkx graph or GraphML text."""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

from app.services.datasets import DatasetState
from matching import build_graph, graphml_ready

__all__ = ["graph", "graphml"]


def graph(state: DatasetState, changes: Mapping[str, float]) -> nx.Graph:
    """Regions as nodes and every scored pair as an edge, stamped with the dataset version."""
    built = build_graph(state.network, state.components, state.weights(changes))
    built.graph["dataset_version"] = state.version
    return built


def graphml(state: DatasetState, changes: Mapping[str, float]) -> str:
    """The same graph as GraphML, for Gephi or `networkx.read_graphml`."""
    return "\n".join(nx.generate_graphml(graphml_ready(graph(state, changes))))
