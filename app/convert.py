"""The one module that knows both the engine's types and the HTTP schemas."""

from __future__ import annotations

from app.model import ModelState
from matching import (
    LinkExplanation,
    PlanResult,
    PlanSettings,
    Region,
    Suggestion,
    Taxonomy,
    Tie,
    Weights,
)
from schemas.dataset import DatasetInfo, SourceOut
from schemas.links import (
    ContributionOut,
    LinkDetail,
    LinkOut,
    SuggestionOut,
    TermOut,
)
from schemas.plans import PlanIn, PlanOut, PlanPairOut
from schemas.regions import IndicatorOut, RegionOut, SourcedOut, TieOut
from schemas.taxonomy import ChannelOut, FactorOut, SectorOut, TaxonomyOut

__all__ = [
    "dataset_info",
    "link_detail",
    "link_out",
    "plan_out",
    "plan_settings",
    "region_out",
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


def link_out(state: ModelState, weights: Weights, i: int, j: int) -> LinkOut:
    """A link from the component matrices; its score is the sum of its contributions."""
    contributions = state.components.contributions(weights, i, j)
    return LinkOut(
        northeast=state.network.northeast.ids[i],
        east=state.network.east.ids[j],
        score=sum(contributions.values()),
        existing=bool(state.network.existing[i, j]),
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
    weights: Weights,
    side: str,
    region_index: int,
    suggestion: Suggestion,
    channel: str | None,
) -> SuggestionOut:
    """A suggested partner of the region at `region_index` on `side`."""
    network = state.network
    if side == "northeast":
        i, j, partner_side = region_index, suggestion.partner, network.east
    else:
        i, j, partner_side = suggestion.partner, region_index, network.northeast
    link = link_out(state, weights, i, j)
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


def plan_out(state: ModelState, weights: Weights, result: PlanResult) -> PlanOut:
    """A plan with each pair's contributions."""
    pairs = []
    for pair in result.pairs:
        link = link_out(state, weights, pair.northeast, pair.east)
        pairs.append(
            PlanPairOut(
                northeast=link.northeast,
                east=link.east,
                score=link.score,
                pinned=pair.pinned,
                contributions=link.contributions,
            )
        )
    return PlanOut(
        dataset_version=state.version,
        status="optimal",
        objective=sum(p.score for p in pairs),
        threshold=result.threshold,
        weights=weights.as_dict(),
        message=result.message,
        pairs=pairs,
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
