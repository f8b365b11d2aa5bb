from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from matching import Network, Taxonomy, load_taxonomy, network_from_dataset, parse_dataset


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
