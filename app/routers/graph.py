"""GET /graph and GET /graph.graphml."""

from __future__ import annotations

import networkx as nx
from fastapi import APIRouter, Response

from app import convert
from app.dependencies import DatedStateDep
from app.parsing import StrictRoute
from app.routers.params import WeightChanges
from app.services import graph as service
from schemas.graph import NodeLinkGraph

router = APIRouter(tags=["graph"], route_class=StrictRoute)


@router.get("/graph", summary="The whole graph as node-link JSON")
def graph_json(state: DatedStateDep, changes: WeightChanges) -> NodeLinkGraph:
    """Regions as nodes and every scored pair as an edge (networkx node-link format)."""
    return convert.graph_out(nx.node_link_data(service.graph(state, changes), edges="links"))


@router.get(
    "/graph.graphml",
    summary="The whole graph as GraphML",
    response_class=Response,
    responses={200: {"content": {"application/graphml+xml": {"schema": {"type": "string"}}}}},
)
def graph_graphml(state: DatedStateDep, changes: WeightChanges) -> Response:
    """The same graph for Gephi or networkx (`networkx.read_graphml`)."""
    return Response(content=service.graphml(state, changes), media_type="application/graphml+xml")
