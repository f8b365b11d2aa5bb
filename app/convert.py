"""The one module that knows both the engine's types and the HTTP schemas.

Requests come in as schemas and leave as the engine's (or the services') types; results leave as
response schemas. Nothing here computes: every number is the engine's, copied.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Set
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.errors import InvalidInput, Problem
from app.services.datasets import DatasetState
from app.services.enterprises import EnterpriseProfile, ProfileChange
from app.services.evaluation import Calibration
from app.services.health import Readiness
from app.services.imports import ImportReport
from app.services.keys import CreatedKey
from app.services.links import LinkPage, LinkView
from app.services.outcomes import OutcomePage, TargetWrite
from app.services.partners import PartnerResult
from app.services.plans import Plan
from app.services.regions import SuggestedPartner, Suggestions
from app.services.rounds import Round, RoundRequest
from app.services.scenarios import (
    Comparison,
    SavedResult,
    ScenarioDecoder,
    ScenarioPage,
    ScenarioView,
)
from app.storage.enterprises import StoredEnterprise
from app.storage.keys import StoredKey
from app.storage.scenarios import StoredScenario
from matching import (
    INDICATOR_UNITS,
    CoverageRules,
    Dataset,
    Enterprise,
    EvaluationReport,
    Network,
    Outcome,
    Override,
    PartnerFilters,
    PlanChange,
    PlanResult,
    PlanSettings,
    Region,
    Scenario,
    ScenarioDiff,
    ScoredLink,
    Sourced,
    Target,
    Taxonomy,
    Tie,
)
from schemas.common import WeightsIn
from schemas.dataset import DatasetInfo, HealthOut, ReadyOut, SourceOut
from schemas.enterprises import (
    EnterpriseIn,
    EnterpriseList,
    EnterpriseOut,
    EnterprisePatch,
    MatchTermOut,
    PartnerList,
    PartnerOut,
    PartnerQuery,
)
from schemas.enterprises import ImportReport as ImportReportOut
from schemas.evaluation import (
    AttainmentOut,
    CalibrationOut,
    CalibrationYearOut,
    IndicatorReportOut,
    LeagueRowOut,
    RegionGapsOut,
    ReportOut,
)
from schemas.graph import NodeLinkGraph
from schemas.keys import KeyCreated, KeyIn, KeyList, KeyOut
from schemas.links import (
    ContributionOut,
    DrawnOutcomeOut,
    LinkDetail,
    LinkList,
    LinkOut,
    LinkTermOut,
    SuggestionList,
    SuggestionOut,
)
from schemas.outcomes import (
    OutcomeImportReport,
    OutcomeIn,
    OutcomeList,
    OutcomeOut,
    TargetIn,
    TargetList,
    TargetOut,
)
from schemas.plans import PlanIn, PlanOut, PlanPairOut, PlanResultOut
from schemas.regions import IndicatorOut, MeasureOut, RegionList, RegionOut, SourcedOut, TieOut
from schemas.rounds import MeetingOut, RoundIn, RoundOut
from schemas.scenarios import (
    ComparisonOut,
    DiffOut,
    LinkMoveOut,
    PairOut,
    PlanChangeOut,
    SavedScenarioOut,
    ScenarioIn,
    ScenarioList,
    ScenarioOut,
    ScenarioRef,
    ScenarioSummary,
    WeightIntervalOut,
)
from schemas.taxonomy import ChannelOut, FactorOut, SectorOut, TaxonomyOut

# Requests --------------------------------------------------------------------------------------


def weight_changes(weights: WeightsIn, taxonomy: Taxonomy) -> dict[str, float]:
    """The weight changes of a request body, each name checked against its group (else 422)."""
    for group, given, known in (
        ("channels", weights.channels, taxonomy.channel_ids),
        ("factors", weights.factors, taxonomy.factor_ids),
    ):
        for name in given:
            if name not in known:
                raise InvalidInput(
                    f"`weights.{group}`: unknown {group[:-1]} {name!r}; expected one of "
                    f"{', '.join(known)}"
                )
    return {**weights.channels, **weights.factors}


def plan_settings(body: PlanIn) -> PlanSettings:
    """The engine's plan settings from a request body."""
    return PlanSettings(
        capacity=body.capacity,
        capacities=dict(body.capacities),
        min_score=body.min_score,
        pinned=tuple(body.pinned),
        forbidden=tuple(body.forbidden),
        same_level=body.same_level,
        coverage=CoverageRules(
            min_channels=body.coverage.min_channels,
            per_docking=body.coverage.per_docking,
            max_new_per_east=body.coverage.max_new_per_east,
            cover_share=body.coverage.cover_share,
        ),
    )


def scenario_in(body: ScenarioIn, taxonomy: Taxonomy) -> Scenario:
    """The engine's scenario from a request body."""
    return Scenario(
        weights=weight_changes(body.weights, taxonomy),
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


def scenario_decoder(taxonomy: Taxonomy) -> ScenarioDecoder:
    """Reads a saved scenario's stored request back into the engine's scenario."""
    return lambda text: scenario_in(ScenarioIn.model_validate_json(text), taxonomy)


def _problems(exc: ValidationError) -> list[Problem]:
    return [
        Problem(field=".".join(str(p) for p in e["loc"]) or "row", error=e["msg"])
        for e in exc.errors()
    ]


def enterprise_profile(body: EnterpriseIn) -> EnterpriseProfile:
    """The service's profile from a request body."""
    return EnterpriseProfile(**body.model_dump())


def profile_from_row(values: Mapping[str, Any]) -> EnterpriseProfile | list[Problem]:
    """A profile from the values of an imported row, checked as a request body is; or problems."""
    try:
        return enterprise_profile(EnterpriseIn.model_validate(values))
    except ValidationError as exc:
        return _problems(exc)


def patched(body: EnterprisePatch) -> ProfileChange:
    """The change a PATCH makes: its fields over the stored ones, checked as a whole profile."""
    changes = body.model_dump(exclude_unset=True)

    def change(current: StoredEnterprise) -> EnterpriseProfile:
        merged = {**enterprise_out(current).model_dump(exclude={"side", "updated_at"}), **changes}
        try:
            return enterprise_profile(EnterpriseIn.model_validate(merged))
        except ValidationError as exc:
            raise InvalidInput.listing(_problems(exc)) from None

    return change


def partner_filters(
    *,
    region: str | None,
    ownership: str | None,
    size: str | None,
    min_score: float | None,
) -> PartnerFilters:
    """The engine's partner filters from request values (one region, ownership, size at most)."""
    return PartnerFilters(
        regions=None if region is None else (region,),
        ownership=None if ownership is None else (ownership,),
        size=None if size is None else (size,),
        min_score=min_score,
    )


def partner_query(body: PartnerQuery) -> Enterprise:
    """The profile a search is for (it is not registered: it has no id)."""
    return Enterprise(id="", region=body.region, offers=body.offers, seeks=body.seeks)


def round_request(body: RoundIn) -> RoundRequest:
    """The service's round request from a request body."""
    return RoundRequest(
        northeast=body.northeast,
        east=body.east,
        b=body.b,
        b_overrides=body.b_overrides,
        min_score=body.min_score,
        pinned=body.pinned,
        forbidden=body.forbidden,
        exclude_existing=body.exclude_existing,
        candidates=body.candidates,
    )


# Taxonomy, regions and the dataset -------------------------------------------------------------


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


def health_out(state: DatasetState) -> HealthOut:
    """Liveness and the dataset in use."""
    return HealthOut(status="ok", dataset_version=state.version, regions=len(state.dataset.regions))


def ready_out(found: Readiness) -> ReadyOut:
    """The readiness of the worker that answers."""
    return ReadyOut(
        status="ready" if found.ready else "not ready",
        database=found.database,
        dataset_version=found.dataset_version,
        indexed=found.indexed,
        problems=found.problems,
    )


def tie_out(tie: Tie) -> TieOut:
    """An existing tie."""
    return TieOut(
        northeast=tie.northeast,
        east=tie.east,
        kind=tie.kind,
        strength=tie.strength,
        description=tie.description,
        start=tie.start,
        source=tie.source,
        note=tie.note,
    )


def region_out(dataset: Dataset, region: Region) -> RegionOut:
    """A region's profile with its ties."""

    def sourced(table: Mapping[str, Sourced]) -> dict[str, SourcedOut]:
        return {
            key: SourcedOut(
                value=item.value,
                source=item.source,
                note=item.note,
                kind=item.kind,
                measure=None
                if item.measure is None
                else MeasureOut.model_validate(item.measure, from_attributes=True),
                range=item.range,
            )
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
        ties=[tie_out(t) for t in dataset.ties_of(region.id)],
        indicators={
            key: IndicatorOut.model_validate(item, from_attributes=True)
            for key, item in region.indicators.items()
        },
        factors=sourced(region.factors),
        strengths=sourced(region.strengths),
        needs=sourced(region.needs),
    )


def region_list(state: DatasetState, regions: Iterable[Region]) -> RegionList:
    """Regions of the active dataset."""
    return RegionList(
        dataset_version=state.version, regions=[region_out(state.dataset, r) for r in regions]
    )


def dataset_info(state: DatasetState) -> DatasetInfo:
    """The active dataset's metadata."""
    dataset = state.dataset
    return DatasetInfo(
        version=dataset.version,
        digest=state.digest,
        adopted=dataset.adopted,
        title=dataset.title,
        description=dataset.description,
        origin=state.origin,
        activated_at=state.activated_at,
        regions=len(dataset.regions),
        ties=len(dataset.ties),
        sources={
            key: SourceOut(
                title=s.title,
                kind=s.kind,
                url=s.url,
                published=s.published,
                repository=s.repository,
                commit=s.commit,
                path=s.path,
            )
            for key, s in dataset.sources.items()
        },
    )


# Links, suggestions, plans and the graph -------------------------------------------------------


def link_out(link: ScoredLink) -> LinkOut:
    """A scored link; its score is the sum of its contributions."""
    return LinkOut(
        northeast=link.northeast,
        east=link.east,
        score=link.score,
        existing=link.existing,
        contributions=dict(link.contributions),
    )


def link_list(state: DatasetState, page: LinkPage) -> LinkList:
    """A page of links, best first."""
    return LinkList(
        dataset_version=state.version,
        as_of=state.as_of,
        weights=page.weights.as_dict(),
        channel=page.channel,
        total=page.total,
        links=[link_out(link) for link in page.links],
    )


def link_detail(state: DatasetState, view: LinkView) -> LinkDetail:
    """A link with its full explanation and the outcomes it drew on."""
    explanation = view.explanation
    return LinkDetail(
        dataset_version=state.version,
        as_of=state.as_of,
        northeast=explanation.northeast,
        east=explanation.east,
        score=explanation.score,
        existing=explanation.existing,
        contributions={c.component: c.value for c in explanation.contributions},
        weights=view.weights.as_dict(),
        outcomes=[
            DrawnOutcomeOut(
                id=t.drawn.outcome.id,
                indicator=t.drawn.outcome.indicator,
                value=t.drawn.outcome.value,
                date=t.drawn.outcome.date,
                source=t.drawn.outcome.source,
                weight=t.drawn.weight,
                evidence=t.drawn.evidence,
                contribution=t.value,
            )
            for t in view.outcomes
        ],
        explanation=[
            ContributionOut(
                component=c.component,
                kind=c.kind,
                weight=c.weight,
                value=c.value,
                terms=[
                    LinkTermOut(
                        sector=t.sector,
                        direction=t.direction,
                        value=t.value,
                        northeast_value=t.northeast_value,
                        east_value=t.east_value,
                        northeast_share=t.northeast_share,
                        east_share=t.east_share,
                    )
                    for t in c.terms
                ],
            )
            for c in explanation.contributions
        ],
    )


def suggestion_out(pick: SuggestedPartner, channel: str | None) -> SuggestionOut:
    """A suggested partner."""
    return SuggestionOut(
        partner=pick.region.id,
        name_en=pick.region.name_en,
        name_zh=pick.region.name_zh,
        level=pick.region.level,
        score=pick.link.score,
        channel_score=pick.value if channel is not None else None,
        contributions=dict(pick.link.contributions),
    )


def suggestion_list(state: DatasetState, found: Suggestions) -> SuggestionList:
    """A region's suggested partners."""
    return SuggestionList(
        dataset_version=state.version,
        as_of=state.as_of,
        region=found.region,
        side=found.side,
        channel=found.channel,
        level=found.level,
        weights=found.weights.as_dict(),
        suggestions=[suggestion_out(p, found.channel) for p in found.partners],
    )


def plan_result_out(result: PlanResult, links: list[ScoredLink]) -> PlanResultOut:
    """A plan with each pair's contributions."""
    return PlanResultOut(
        status="optimal",
        objective=result.objective,
        threshold=result.threshold,
        message=result.message,
        pairs=[
            PlanPairOut(
                northeast=link.northeast,
                east=link.east,
                score=link.score,
                pinned=pair.pinned,
                contributions=dict(link.contributions),
            )
            for pair, link in zip(result.pairs, links, strict=True)
        ],
    )


def plan_out(state: DatasetState, plan: Plan) -> PlanOut:
    """A plan on the active dataset."""
    body = plan_result_out(plan.result, plan.links)
    return PlanOut(
        dataset_version=state.version,
        as_of=state.as_of,
        weights=plan.weights.as_dict(),
        **dict(body),
    )


def graph_out(data: dict[str, Any]) -> NodeLinkGraph:
    """The graph's node-link data."""
    return NodeLinkGraph.model_validate(data)


# Scenarios -------------------------------------------------------------------------------------


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


def scenario_out(state: DatasetState, view: ScenarioView) -> ScenarioOut:
    """A scenario's result."""
    result = view.result
    network = result.network
    kinds = {c: "channel" for c in state.taxonomy.channel_ids}
    return ScenarioOut(
        dataset_version=state.version,
        weights=result.weights.as_dict(),
        links=[link_out(link) for link in view.links],
        suggestions={
            region: [suggestion_out(pick, None) for pick in picks]
            for region, picks in view.suggestions.items()
        },
        plan=plan_result_out(result.plan, view.plan_links),
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


def scenario_summary(stored: StoredScenario) -> ScenarioSummary:
    """A saved scenario without its result."""
    return ScenarioSummary(
        id=stored.id, name=stored.name, description=stored.description, created_at=stored.created_at
    )


def saved_scenario_out(state: DatasetState, saved: SavedResult) -> SavedScenarioOut:
    """A saved scenario, the request that defines it and its result."""
    return SavedScenarioOut(
        **dict(scenario_summary(saved.stored)),
        scenario=ScenarioIn.model_validate_json(saved.stored.body),
        result=scenario_out(state, saved.view),
    )


def scenario_list(page: ScenarioPage, *, limit: int, offset: int) -> ScenarioList:
    """A page of saved scenarios."""
    return ScenarioList(
        items=[scenario_summary(s) for s in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


def comparison_out(state: DatasetState, comparison: Comparison) -> ComparisonOut:
    """The diff between two saved scenarios."""
    first, second = comparison.first, comparison.second
    return ComparisonOut(
        dataset_version=state.version,
        scenario=ScenarioRef(id=first.stored.id, name=first.stored.name),
        other=ScenarioRef(id=second.stored.id, name=second.stored.name),
        diff=diff_out(
            state.network, comparison.diff, first.view.result.plan, second.view.result.plan
        ),
    )


# Enterprises, partners and rounds --------------------------------------------------------------


def enterprise_out(stored: StoredEnterprise, *, private: bool = True) -> EnterpriseOut:
    """A stored enterprise; its contact only for a reader allowed to see it (`private`)."""
    return EnterpriseOut(
        id=stored.id,
        name=stored.name,
        region=stored.region,
        side=stored.side,
        offers=stored.offers,
        seeks=stored.seeks,
        size=stored.size,
        ownership=stored.ownership,
        founded=stored.founded,
        description=stored.description,
        contact=stored.contact if private else None,
        partners=stored.partners,
        updated_at=stored.updated_at,
    )


def enterprise_list(
    items: Iterable[StoredEnterprise], next_cursor: str | None, *, private: Set[str]
) -> EnterpriseList:
    """A page of enterprises (contacts only of those in `private`, the reader may see)."""
    return EnterpriseList(
        items=[enterprise_out(e, private=e.id in private) for e in items], next_cursor=next_cursor
    )


def import_report(report: ImportReport) -> ImportReportOut:
    """What an import wrote."""
    return ImportReportOut(imported=report.imported, created=report.created, updated=report.updated)


def partner_list(found: PartnerResult) -> PartnerList:
    """Partners found, best first, each explained."""
    partners = []
    for match in found.matches:
        record = found.records[match.id]
        explanation = match.explanation
        assert explanation is not None
        partners.append(
            PartnerOut(
                id=record.id,
                name=record.name,
                region=record.region,
                size=record.size,
                ownership=record.ownership,
                score=match.score,
                contributions=explanation.contributions,
                terms=[
                    MatchTermOut(sector=s, direction=d, value=v) for s, d, v in explanation.terms
                ],
            )
        )
    return PartnerList(
        dataset_version=found.state.version, enterprise=found.enterprise, partners=partners
    )


def round_out(state: DatasetState, found: Round) -> RoundOut:
    """The round as its response schema; slots count from 1.

    Built without validation (`model_construct`): the values are the engine's, already typed,
    and validating tens of thousands of meetings in one call would hold the interpreter (and
    every other request of the worker) for hundreds of milliseconds.
    """
    result = found.result
    return RoundOut.model_construct(
        dataset_version=state.version,
        status="optimal",
        objective=result.objective,
        slots=result.slots,
        candidates=result.candidates,
        meetings=[
            MeetingOut.model_construct(
                northeast=m.northeast, east=m.east, score=m.score, slot=m.slot + 1, pinned=m.pinned
            )
            for m in result.meetings
        ],
    )


_MEETINGS = TypeAdapter(list[MeetingOut])
#: Meetings encoded per call: each call holds the interpreter for a few milliseconds at most.
_MEETINGS_PER_CHUNK = 2_000


def round_json(state: DatasetState, found: Round) -> bytes:
    """The round as the JSON of `round_out`, encoded a chunk of meetings at a time.

    One call encoding tens of thousands of meetings would hold the interpreter for about 100 ms,
    and with it every other request of the worker.
    """
    response = round_out(state, found)
    meetings = response.meetings
    head = response.model_copy(update={"meetings": []}).model_dump_json().encode()
    assert head.endswith(b'"meetings":[]}')
    parts = [
        _MEETINGS.dump_json(meetings[start : start + _MEETINGS_PER_CHUNK])[1:-1]
        for start in range(0, len(meetings), _MEETINGS_PER_CHUNK)
    ]
    return head[:-2] + b",".join(parts) + b"]}"


#: Columns of a round's CSV schedule.
ROUND_CSV_COLUMNS = ("slot", "northeast", "northeast_name", "east", "east_name", "score")


def _cell(text: str) -> str:
    """A name as a CSV cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def round_csv(found: Round) -> str:
    """The schedule as CSV, one meeting a line in the order of the JSON; slots count from 1."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROUND_CSV_COLUMNS)
    for m in found.result.meetings:
        writer.writerow(
            [
                m.slot + 1,
                m.northeast,
                _cell(found.names[m.northeast]),
                m.east,
                _cell(found.names[m.east]),
                repr(m.score),
            ]
        )
    return out.getvalue()


# Outcomes, targets and the evaluation -----------------------------------------------------------


def outcome_in(body: OutcomeIn) -> Outcome:
    """The engine's outcome from a request body (its references are the service's to check)."""
    return Outcome(
        northeast=body.northeast,
        east=body.east,
        indicator=body.indicator,
        value=body.value,
        date=body.date,
        channels=tuple(dict.fromkeys(body.channels)),
        source=body.source,
        note=body.note,
        northeast_enterprise=body.northeast_enterprise,
        east_enterprise=body.east_enterprise,
    )


def outcome_from_row(values: Mapping[str, Any]) -> Outcome | list[Problem]:
    """An outcome from the values of an imported row, checked as a request body is; or problems."""
    try:
        return outcome_in(OutcomeIn.model_validate(values))
    except ValidationError as exc:
        return _problems(exc)


def outcome_out(outcome: Outcome) -> OutcomeOut:
    """A stored outcome."""
    assert outcome.id is not None
    return OutcomeOut(
        id=outcome.id,
        northeast=outcome.northeast,
        east=outcome.east,
        indicator=outcome.indicator,
        value=outcome.value,
        date=outcome.date,
        year=outcome.year,
        unit=INDICATOR_UNITS[outcome.indicator],
        channels=list(outcome.channels),
        source=outcome.source,
        note=outcome.note,
        northeast_enterprise=outcome.northeast_enterprise,
        east_enterprise=outcome.east_enterprise,
    )


def outcome_list(page: OutcomePage, *, limit: int, offset: int) -> OutcomeList:
    """A page of outcomes."""
    return OutcomeList(
        items=[outcome_out(o) for o in page.items], total=page.total, limit=limit, offset=offset
    )


def outcome_import_report(imported: list[Outcome]) -> OutcomeImportReport:
    """What an outcome import recorded."""
    return OutcomeImportReport(
        imported=len(imported), ids=[o.id for o in imported if o.id is not None]
    )


def target_in(body: TargetIn) -> Target:
    """The engine's target from a request body."""
    return Target(body.northeast, body.east, body.year, body.indicator, body.value)


def target_out(target: Target) -> TargetOut:
    """A stored target."""
    assert target.id is not None
    return TargetOut(
        id=target.id,
        northeast=target.northeast,
        east=target.east,
        year=target.year,
        indicator=target.indicator,
        value=target.value,
        unit=INDICATOR_UNITS[target.indicator],
    )


def target_write(write: TargetWrite) -> TargetOut:
    """A target as written."""
    return target_out(write.target)


def target_list(targets: Iterable[Target]) -> TargetList:
    """Targets by year, pair and indicator."""
    return TargetList(items=[target_out(t) for t in targets])


def report_out(state: DatasetState, report: EvaluationReport) -> ReportOut:
    """The effectiveness report for front-ends."""
    return ReportOut(
        dataset_version=state.version,
        first_year=report.first_year,
        last_year=report.last_year,
        years=list(report.years),
        pair=None
        if report.pair is None
        else PairOut(northeast=report.pair[0], east=report.pair[1]),
        outcomes=report.outcomes,
        indicators=[
            IndicatorReportOut(
                indicator=s.indicator,
                unit=s.unit,
                total=s.total,
                by_year=list(s.by_year),
                slope=s.slope,
                by_channel=dict(s.by_channel),
                by_channel_year={c: list(v) for c, v in s.by_channel_year.items()},
            )
            for s in report.indicators
        ],
        league=[
            LeagueRowOut(
                rank=p.rank,
                northeast=p.northeast,
                east=p.east,
                index=p.index,
                outcomes=p.outcomes,
                totals=dict(p.totals),
                channels=list(p.channels),
                existing=p.existing,
            )
            for p in report.league
        ],
        attainment=[
            AttainmentOut(
                target_id=a.target.id,
                northeast=a.target.northeast,
                east=a.target.east,
                year=a.target.year,
                indicator=a.target.indicator,
                target=a.target.value,
                actual=a.actual,
                ratio=a.ratio,
                met=a.met,
            )
            for a in report.attainment
        ],
        inactive=[PairOut(northeast=ne, east=ea) for ne, ea in report.inactive],
        gaps=[RegionGapsOut(northeast=g.northeast, channels=list(g.channels)) for g in report.gaps],
    )


#: Columns of the report's CSV: one table per `table`, every row one number.
REPORT_CSV_COLUMNS = ("table", "northeast", "east", "year", "indicator", "channel", "value")


def report_csv(report: EvaluationReport) -> str:
    """The report as CSV in long form, one number a row.

    Tables: `total`, `year`, `channel`, `channel_year` (non-zero cells), `index` and `pair` (the
    league), `target`, `actual` and `attainment`, `inactive` pairs and channel `gap`s.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_CSV_COLUMNS)
    for s in report.indicators:
        writer.writerow(["total", "", "", "", s.indicator, "", repr(s.total)])
        for year, value in zip(report.years, s.by_year, strict=True):
            writer.writerow(["year", "", "", year, s.indicator, "", repr(value)])
        for channel, value in s.by_channel.items():
            writer.writerow(["channel", "", "", "", s.indicator, channel, repr(value)])
        for channel, series in s.by_channel_year.items():
            for year, value in zip(report.years, series, strict=True):
                if value:
                    writer.writerow(
                        ["channel_year", "", "", year, s.indicator, channel, repr(value)]
                    )
    for p in report.league:
        writer.writerow(["index", p.northeast, p.east, "", "", "", repr(p.index)])
        for indicator, value in p.totals.items():
            writer.writerow(["pair", p.northeast, p.east, "", indicator, "", repr(value)])
    for a in report.attainment:
        t = a.target
        writer.writerow(["target", t.northeast, t.east, t.year, t.indicator, "", repr(t.value)])
        writer.writerow(["actual", t.northeast, t.east, t.year, t.indicator, "", repr(a.actual)])
        ratio = "" if a.ratio is None else repr(a.ratio)
        writer.writerow(["attainment", t.northeast, t.east, t.year, t.indicator, "", ratio])
    for northeast, east in report.inactive:
        writer.writerow(["inactive", northeast, east, "", "", "", ""])
    for gap in report.gaps:
        for channel in gap.channels:
            writer.writerow(["gap", gap.northeast, "", "", "", channel, ""])
    return out.getvalue()


def calibration_out(state: DatasetState, found: Calibration) -> CalibrationOut:
    """Calibration, year by year."""
    return CalibrationOut(
        dataset_version=state.version,
        weights=found.weights.as_dict(),
        half_life_days=found.half_life,
        years=[
            CalibrationYearOut(year=r.year, rho=r.rho, pairs=r.pairs, active_pairs=r.active_pairs)
            for r in found.years
        ],
    )


# Keys ------------------------------------------------------------------------------------------


def key_in(values: Mapping[str, Any]) -> KeyIn:
    """A key request from the command line's options, checked as POST /keys checks its body."""
    try:
        return KeyIn.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput.listing(_problems(exc)) from None


def key_out(stored: StoredKey) -> KeyOut:
    """A stored key (never a secret: storage holds none)."""
    return KeyOut.model_validate(_key_fields(stored))


def _key_fields(stored: StoredKey) -> dict[str, Any]:
    return {
        "id": stored.id,
        "prefix": stored.prefix,
        "role": stored.role,
        "label": stored.label,
        "enterprises": list(stored.enterprises),
        "created_at": stored.created_at,
        "revoked_at": stored.revoked_at,
    }


def key_created(created: CreatedKey) -> KeyCreated:
    """A new key with its secret, shown this once."""
    return KeyCreated.model_validate({**_key_fields(created.stored), "key": created.secret})


def key_list(keys: Iterable[StoredKey]) -> KeyList:
    """Every key."""
    return KeyList(keys=[key_out(k) for k in keys])
