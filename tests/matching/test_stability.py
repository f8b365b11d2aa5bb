"""Suggestion stability under the estimates' stated uncertainty."""

from __future__ import annotations

from typing import Any

from matching import parse_dataset, suggestion_stability


def collapse_ranges(document: dict[str, Any]) -> None:
    for region in document["regions"]:
        for table in ("factors", "strengths", "needs"):
            for item in region[table].values():
                if item["kind"] == "estimate":
                    item["range"] = [item["value"], item["value"]]


def test_without_uncertainty_every_suggestion_is_stable(document, taxonomy) -> None:
    collapse_ranges(document)
    found = suggestion_stability(parse_dataset(document, taxonomy=taxonomy), draws=20)
    assert all(r.same_set == 1 and r.same_best == 1 for r in found)
    assert len(found) == len(document["regions"])


def test_draws_are_deterministic_for_a_seed_and_shares_are_fractions(document, taxonomy) -> None:
    dataset = parse_dataset(document, taxonomy=taxonomy)
    first = suggestion_stability(dataset, draws=40, seed=3)
    assert first == suggestion_stability(dataset, draws=40, seed=3)
    assert all(0 <= r.same_set <= 1 and 0 <= r.same_best <= 1 for r in first)
    assert all(len(r.top) == 3 for r in first)
