"""The one module that knows both the engine's types and the HTTP schemas."""

from __future__ import annotations

import math
from collections.abc import Iterable

from app.model import ModelState
from matching import (
    ComponentScores,
    LinkExplanation,
    Network,
    PlanResult,
    PlanSettings,
    Region,
    Suggestion,
    Taxonomy,
    Tie,
    Weights,
)
from matching.scenario import Override, Scenario, ScenarioDiff, ScenarioResult
from matching.sensitivity import PlanChange
from schemas.dataset import DatasetInfo, SourceOut
from schemas.links import (
    ContributionOut,
    LinkDetail,
    LinkOut,
    SuggestionOut,
    TermOut,
)
from schemas.plans import PlanIn, PlanOut, PlanPairOut, PlanResultOut
from schemas.regions import IndicatorOut, RegionOut, SourcedOut, TieOut
from schemas.scenarios import (
    DiffOut,
    LinkMoveOut,
    PairOut,
    PlanChangeOut,
    ScenarioIn,
    ScenarioOut,
    WeightIntervalOut,
)
from schemas.taxonomy import ChannelOut, FactorOut, SectorOut, TaxonomyOut

__all__ = [
    "dataset_info",
    "diff_out",
    "link_detail",
    "link_out",
    "plan_out",
    "plan_settings",
    "plan_result_out",
    "region_out",
    "scenario_in",
    "scenario_out",
    "suggestion_out",
    "taxonomy_out",
]


def taxonomy_out(taxonomy: Taxonomy) -> TaxonomyOut:
    """Channels with their sectors, and the factors."""
    return TaxonomyOut(
        version=taxonomy.version,
        channels=[
            ChannelOut(
                id=c.id,
                kind=c.kind,
                name_en=c.name_en,
                name_zh=c.name_zh,
                description=c.description,
                default_weight=c.default_weight,
                synergy=c.synergy,
                sectors=[
                    SectorOut(id=s.id, name_en=s.name_en, name_zh=s.name_zh)
                    for s in taxonomy.sectors
                    if s.channel == c.id
                ],
            )
            for c in taxonomy.channels
        ],
        factors=[
            FactorOut(
                id=f.id,
                name_en=f.name_en,
                name_zh=f.name_zh,
                description=f.description,
                formula=f.formula,
                default_weight=f.default_weight,
            )
            for f in taxonomy.factors
        ],
    )


def tie_out(tie: Tie) -> TieOut:
    """An existing tie."""
    return TieOut(
        northeast=tie.northeast,
        east=tie.east,
        kind=tie.kind,
        strength=tie.strength,
        description=tie.description,
        source=tie.source,
        note=tie.note,
    )


def region_out(state: ModelState, region: Region) -> RegionOut:
    """A region's profile with its ties."""

    def sourced(table: dict[str, object]) -> dict[str, SourcedOut]:
        return {
            key: SourcedOut.model_validate(item, from_attributes=True)
            for key, item in table.items()
        }

    return RegionOut(
        id=region.id,
        name_en=region.name_en,
        name_zh=region.name_zh,
        side=region.side,
        level=region.level,
        parent=region.parent,
        counterparts=list(region.counterparts),
        ties=[tie_out(t) for t in state.dataset.ties_of(region.id)],
        indicators={
            key: IndicatorOut.model_validate(item, from_attributes=True)
            for key, item in region.indicators.items()
        },
        factors=sourced(dict(region.factors)),
        strengths=sourced(dict(region.strengths)),
        needs=sourced(dict(region.needs)),
    )


def link_out(
    network: Network, components: ComponentScores, weights: Weights, i: int, j: int
) -> LinkOut:
    """A link from the component matrices; its score is the sum of its contributions."""
    contributions = components.contributions(weights, i, j)
    return LinkOut(
        northeast=network.northeast.ids[i],
        east=network.east.ids[j],
        score=sum(contributions.values()),
        existing=bool(network.existing[i, j]),
        contributions=contributions,
    )


def link_detail(state: ModelState, weights: Weights, explanation: LinkExplanation) -> LinkDetail:
    """A link with its full explanation."""
    return LinkDetail(
        dataset_version=state.version,
        northeast=explanation.northeast,
        east=explanation.east,
        score=explanation.score,
        existing=explanation.existing,
        contributions={c.component: c.value for c in explanation.contributions},
        weights=weights.as_dict(),
        explanation=[
            ContributionOut(
                component=c.component,
                kind=c.kind,
                weight=c.weight,
                value=c.value,
                terms=[
                    TermOut(
                        sector=t.sector,
                        direction=t.direction,
                        value=t.value,
                        northeast_value=t.northeast_value,
                        east_value=t.east_value,
                    )
                    for t in c.terms
                ],
            )
            for c in explanation.contributions
        ],
    )


def suggestion_out(
    state: ModelState,
    network: Network,
    components: ComponentScores,
    weights: Weights,
    region: str,
    suggestion: Suggestion,
    channel: str | None,
) -> SuggestionOut:
    """A suggested partner of `region`."""
    side, index = network.locate(region)
    if side == "northeast":
        i, j, partner_side = index, suggestion.partner, network.east
    else:
        i, j, partner_side = suggestion.partner, index, network.northeast
    link = link_out(network, components, weights, i, j)
    partner = state.dataset.region(partner_side.ids[suggestion.partner])
    return SuggestionOut(
        partner=partner.id,
        name_en=partner.name_en,
        name_zh=partner.name_zh,
        level=partner.level,
        score=link.score,
        channel_score=suggestion.value if channel is not None else None,
        contributions=link.contributions,
    )


def plan_settings(body: PlanIn) -> PlanSettings:
    """The engine's plan settings from a request body."""
    return PlanSettings(
        capacity=body.capacity,
        capacities=dict(body.capacities),
        min_score=body.min_score,
        pinned=tuple(body.pinned),
        forbidden=tuple(body.forbidden),
        same_level=body.same_level,
    )


def plan_result_out(
    network: Network, components: ComponentScores, weights: Weights, result: PlanResult
) -> PlanResultOut:
    """A plan with each pair's contributions."""
    pairs = []
    for pair in result.pairs:
        link = link_out(network, components, weights, pair.northeast, pair.east)
        pairs.append(
            PlanPairOut(
                northeast=link.northeast,
                east=link.east,
                score=link.score,
                pinned=pair.pinned,
                contributions=link.contributions,
            )
        )
    return PlanResultOut(
        status="optimal",
        objective=sum(p.score for p in pairs),
        threshold=result.threshold,
        message=result.message,
        pairs=pairs,
    )


def plan_out(state: ModelState, weights: Weights, result: PlanResult) -> PlanOut:
    """A plan on the active dataset."""
    body = plan_result_out(state.network, state.components, weights, result)
    return PlanOut(dataset_version=state.version, weights=weights.as_dict(), **dict(body))


def scenario_in(body: ScenarioIn) -> Scenario:
    """The engine's scenario from a request body."""
    return Scenario(
        weights={**body.weights.channels, **body.weights.factors},
        overrides=tuple(
            Override(
                region=o.region,
                sector=o.sector,
                factor=o.factor,
                strength=o.strength,
                need=o.need,
                value=o.value,
            )
            for o in body.overrides
        ),
        plan=plan_settings(body),
        k=body.k,
        links=body.links,
        moves=body.moves,
    )


def _pairs_out(network: Network, pairs: Iterable[tuple[int, int]]) -> list[PairOut]:
    return [PairOut(northeast=network.northeast.ids[i], east=network.east.ids[j]) for i, j in pairs]


def diff_out(
    network: Network, diff: ScenarioDiff, baseline: PlanResult, scenario: PlanResult
) -> DiffOut:
    """What changed between two results."""
    return DiffOut(
        baseline_objective=baseline.objective,
        scenario_objective=scenario.objective,
        entered=_pairs_out(network, diff.entered),
        left=_pairs_out(network, diff.left),
        moved_total=diff.moved_total,
        moves=[
            LinkMoveOut(
                northeast=network.northeast.ids[m.northeast],
                east=network.east.ids[m.east],
                baseline_rank=m.baseline_rank,
                scenario_rank=m.scenario_rank,
                baseline_score=m.baseline_score,
                scenario_score=m.scenario_score,
            )
            for m in diff.moves
        ],
    )


def _change_out(network: Network, change: PlanChange | None) -> PlanChangeOut | None:
    if change is None:
        return None
    return PlanChangeOut(
        at=change.at,
        reason=change.reason,
        entering=_pairs_out(network, change.entering),
        leaving=_pairs_out(network, change.leaving),
    )


def scenario_out(state: ModelState, result: ScenarioResult) -> ScenarioOut:
    """A scenario's result."""
    network, components, weights = result.network, result.components, result.weights
    kinds = {c: "channel" for c in state.taxonomy.channel_ids}
    return ScenarioOut(
        dataset_version=state.version,
        weights=weights.as_dict(),
        links=[
            link_out(network, components, weights, int(i), int(j))
            for i, j in zip(*result.links, strict=True)
        ],
        suggestions={
            region: [
                suggestion_out(state, network, components, weights, region, pick, None)
                for pick in picks
            ]
            for region, picks in result.suggestions.items()
        },
        plan=plan_result_out(network, components, weights, result.plan),
        diff=diff_out(network, result.diff, result.baseline_plan, result.plan),
        sensitivity=[
            WeightIntervalOut(
                component=iv.component,
                kind=kinds.get(iv.component, "factor"),
                weight=iv.weight,
                lower=iv.lower,
                upper=None if math.isinf(iv.upper) else iv.upper,
                below=_change_out(network, iv.below),
                above=_change_out(network, iv.above),
            )
            for iv in result.sensitivity
        ],
    )


def dataset_info(state: ModelState) -> DatasetInfo:
    """The active dataset's metadata."""
    dataset = state.dataset
    return DatasetInfo(
        version=dataset.version,
        digest=state.digest,
        title=dataset.title,
        description=dataset.description,
        origin=state.origin,
        activated_at=state.activated_at,
        regions=len(dataset.regions),
        ties=len(dataset.ties),
        sources={
            key: SourceOut(title=s.title, kind=s.kind, url=s.url, published=s.published)
            for key, s in dataset.sources.items()
        },
    )
