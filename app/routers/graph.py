"""GET /graph and GET /graph.graphml."""

from __future__ import annotations

from typing import Any

import networkx as nx
from fastapi import APIRouter, Response

from app.analysis import weights_from_query
from app.dependencies import ModelDep
from app.routers.params import WeightsQuery
from matching import build_graph, graphml_ready
from schemas.graph import NodeLinkGraph

router = APIRouter(tags=["graph"])


def _graph(state: ModelDep, weights: str | None) -> nx.Graph:
    resolved = weights_from_query(state, weights)
    graph = build_graph(state.network, state.components, resolved)
    graph.graph["dataset_version"] = state.version
    return graph


@router.get("/graph", summary="The whole graph as node-link JSON")
def graph_json(state: ModelDep, weights: WeightsQuery = None) -> NodeLinkGraph:
    """Regions as nodes and every scored pair as an edge (networkx node-link format)."""
    data: dict[str, Any] = nx.node_link_data(_graph(state, weights), edges="links")
    return NodeLinkGraph.model_validate(data)


@router.get(
    "/graph.graphml",
    summary="The whole graph as GraphML",
    response_class=Response,
    responses={200: {"content": {"application/graphml+xml": {}}}},
)
def graph_graphml(state: ModelDep, weights: WeightsQuery = None) -> Response:
    """The same graph for Gephi or networkx (`networkx.read_graphml`)."""
    text = "\n".join(nx.generate_graphml(graphml_ready(_graph(state, weights))))
    return Response(content=text, media_type="application/graphml+xml")
