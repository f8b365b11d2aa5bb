from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from matching import (
    EnterpriseModel,
    Network,
    Taxonomy,
    Weights,
    load_taxonomy,
    network_from_dataset,
    parse_dataset,
    score_components,
)


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="session")
def shipped_document_text() -> str:
    return resources.files("matching").joinpath("data/regions.json").read_text("utf-8")


@pytest.fixture
def document(shipped_document_text: str) -> dict[str, Any]:
    """A fresh, mutable copy of the shipped dataset document."""
    return copy.deepcopy(json.loads(shipped_document_text))


@pytest.fixture(scope="session")
def shipped_network(shipped_document_text: str, taxonomy: Taxonomy) -> Network:
    return network_from_dataset(parse_dataset(json.loads(shipped_document_text), taxonomy=taxonomy))


@pytest.fixture(scope="session")
def model(shipped_network: Network) -> EnterpriseModel:
    """The enterprise score model of the shipped dataset under the default weights."""
    net = shipped_network
    return EnterpriseModel.build(net, score_components(net), Weights.resolve(net.taxonomy))
