from __future__ import annotations

import copy
from typing import Any

import pytest

from matching import FACTOR_IDS, DatasetError, Taxonomy, parse_taxonomy

FIXED_CHANNELS = (
    "equipment",
    "emerging",
    "agriculture",
    "culture_tourism_health",
    "institutions",
    "innovation",
)


def test_channels_have_their_fixed_ids_and_every_sector_one_channel(taxonomy: Taxonomy) -> None:
    assert taxonomy.channel_ids[: len(FIXED_CHANNELS)] == FIXED_CHANNELS
    assert {c.kind for c in taxonomy.channels[:4]} == {"docking"}
    assert taxonomy.factor_ids == FACTOR_IDS
    assert len(set(taxonomy.sector_ids)) == len(taxonomy.sector_ids)
    by_channel = [set(taxonomy.channel_sectors[c]) for c in taxonomy.channel_ids]
    assert set().union(*by_channel) == set(range(len(taxonomy.sectors)))
    assert sum(len(s) for s in by_channel) == len(taxonomy.sectors)
    # Like docks with like where the plan asks for joint development: equipment and emerging
    # industries.
    assert [c.id for c in taxonomy.channels if c.synergy] == ["equipment", "emerging"]


def test_default_weights_sum_to_one(taxonomy: Taxonomy) -> None:
    assert sum(taxonomy.default_weights().values()) == pytest.approx(1.0)


def _doc(taxonomy: Taxonomy) -> dict[str, Any]:
    return {
        "version": "t",
        "channels": [{**c.__dict__} for c in taxonomy.channels],
        "sectors": [{**s.__dict__} for s in taxonomy.sectors],
        "factors": [{**f.__dict__} for f in taxonomy.factors],
    }


def test_round_trip_and_errors(taxonomy: Taxonomy) -> None:
    doc = _doc(taxonomy)
    assert parse_taxonomy(copy.deepcopy(doc)).sector_ids == taxonomy.sector_ids
    bad = copy.deepcopy(doc)
    bad["sectors"][0]["channel"] = "nowhere"
    with pytest.raises(DatasetError, match=r"sectors\[machine_tools\]: channel: must be one of"):
        parse_taxonomy(bad, origin="tax.json")
    bad = copy.deepcopy(doc)
    bad["sectors"].append(dict(bad["sectors"][0]))
    with pytest.raises(DatasetError, match="duplicate id 'machine_tools'"):
        parse_taxonomy(bad)
    bad = copy.deepcopy(doc)
    bad["factors"].pop()
    with pytest.raises(DatasetError, match="must list exactly"):
        parse_taxonomy(bad)
