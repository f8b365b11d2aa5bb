"""GET /graph (node-link JSON) and GET /graph.graphml."""

from __future__ import annotations

import io
import math

import networkx as nx

from .conftest import SHIPPED_VERSION


def test_graph_loads_in_networkx_with_every_region_and_every_pair(api):
    regions = api.regions()

    data = api.get("/graph")
    graph = nx.node_link_graph(data, edges="links")

    assert graph.graph["dataset_version"] == SHIPPED_VERSION
    assert graph.number_of_nodes() == 14
    assert graph.number_of_edges() == 49
    assert nx.is_bipartite(graph)
    for node, attrs in graph.nodes(data=True):
        assert attrs["bipartite"] == (0 if regions[node]["side"] == "northeast" else 1)
        assert attrs["level"] == regions[node]["level"]
    for u, v in graph.edges():
        assert graph.nodes[u]["bipartite"] != graph.nodes[v]["bipartite"]


def test_graph_edges_carry_the_scores_and_flags_of_links(api):
    links = api.links()

    graph = nx.node_link_graph(api.get("/graph"), edges="links")

    for u, v, attrs in graph.edges(data=True):
        pair = (u, v) if graph.nodes[u]["bipartite"] == 0 else (v, u)
        assert math.isclose(sum(attrs["contributions"].values()), attrs["score"], rel_tol=1e-9)
        assert math.isclose(attrs["score"], links[pair]["score"], rel_tol=1e-9)
        assert attrs["existing"] is links[pair]["existing"]
        assert (attrs["tie_strength"] > 0) is attrs["existing"]


def test_graph_follows_the_weights(api):
    graph = nx.node_link_graph(api.get("/graph", weights="agriculture:0"), edges="links")

    for _, _, attrs in graph.edges(data=True):
        assert "agriculture" not in attrs["contributions"]


def test_graphml_parses_with_the_same_edge_scores(api):
    expected = nx.node_link_graph(api.get("/graph"), edges="links")

    response = api.client.get("/graph.graphml")
    graph = nx.read_graphml(io.BytesIO(response.content))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphml+xml")
    assert graph.number_of_nodes() == 14
    assert graph.number_of_edges() == 49
    for u, v, attrs in graph.edges(data=True):
        want = expected.edges[u, v]
        assert math.isclose(attrs["score"], want["score"], rel_tol=1e-9)
        contributions = {
            key.removeprefix("contribution_"): value
            for key, value in attrs.items()
            if key.startswith("contribution_")
        }
        assert contributions.keys() == want["contributions"].keys()
        for component, value in contributions.items():
            assert math.isclose(value, want["contributions"][component], rel_tol=1e-9)
        assert math.isclose(sum(contributions.values()), attrs["score"], rel_tol=1e-9)


def test_graph_with_invalid_weights_is_a_422(api):
    api.fails("GET", "/graph.graphml", 422, "InvalidRequest", params={"weights": "tourism:1"})
