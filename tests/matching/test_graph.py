from __future__ import annotations

import io

import networkx as nx
import pytest

from matching import Weights, build_graph, graphml_ready, score_components, synthetic_network


def test_graph_is_bipartite_with_explained_edges_and_exports_to_graphml() -> None:
    net = synthetic_network(3, 4, seed=7, tie_density=0.3)
    comps = score_components(net)
    w = Weights.resolve(net.taxonomy, {"platforms": 0})
    g = build_graph(net, comps, w, weight="w")
    assert nx.is_bipartite(g)
    assert {d["bipartite"] for _, d in g.nodes(data=True)} == {0, 1}
    scores = comps.combine(w)
    for u, v, d in g.edges(data=True):
        i, j = net.northeast.index[u], net.east.index[v]
        assert d["w"] == pytest.approx(scores[i, j])
        assert sum(d["contributions"].values()) == pytest.approx(d["w"])
        assert "platforms" not in d["contributions"]
        assert d["existing"] == bool(net.existing[i, j])
    flat = graphml_ready(g)
    assert "contributions" in next(iter(g.edges(data=True)))[2]  # the original is untouched
    back = nx.read_graphml(io.BytesIO("\n".join(nx.generate_graphml(flat)).encode()))
    u, v = "ne0", "ea1"
    assert back.edges[u, v]["w"] == pytest.approx(g.edges[u, v]["w"])
    assert back.edges[u, v]["contribution_equipment"] == pytest.approx(
        g.edges[u, v]["contributions"]["equipment"]
    )


def test_min_score_prunes_edges() -> None:
    net = synthetic_network(5, 5, seed=1)
    comps = score_components(net)
    w = Weights.resolve(net.taxonomy)
    cut = float(comps.combine(w).mean())
    g = build_graph(net, comps, w, min_score=cut)
    assert 0 < g.number_of_edges() < 25
    assert all(d["score"] >= cut for *_, d in g.edges(data=True))
