"""Schema of GET /graph (networkx node-link JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from schemas.common import Level, Schema, Side

__all__ = ["GraphLink", "GraphNode", "NodeLinkGraph"]


class GraphNode(Schema):
    """A region."""

    id: str
    bipartite: int = Field(description="0 for northeast, 1 for east.")
    side: Side
    level: Level


class GraphLink(Schema):
    """A scored pair."""

    source: str
    target: str
    score: float
    contributions: dict[str, float]
    existing: bool
    tie_strength: float


class NodeLinkGraph(Schema):
    """networkx node-link data: load it with `networkx.node_link_graph(data, edges="links")`."""

    directed: bool
    multigraph: bool
    graph: dict[str, Any] = Field(description="Graph attributes, with `dataset_version`.")
    nodes: list[GraphNode]
    links: list[GraphLink]
