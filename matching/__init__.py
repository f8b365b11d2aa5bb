"""counterpart's matching engine: profiles, reciprocal scores, suggestions and exact plans.

A library of pure functions over numpy arrays, scipy matrices and networkx graphs; it knows nothing
of HTTP or databases, so planners can use it from a notebook::

    >>> import matching
    >>> net = matching.network_from_dataset(matching.load_dataset())
    >>> comps = matching.score_components(net)          # one matrix per channel and factor
    >>> weights = matching.Weights.resolve(net.taxonomy, {"agriculture": 0.3})
    >>> scores = comps.combine(weights)                 # re-weighting reuses the matrices
    >>> plan = matching.plan_network(net, comps, weights, matching.PlanSettings(capacity=1))
    >>> plan.status
    'optimal'

Everything a caller needs is exported here; modules whose names start with ``_`` are private.
"""

from matching._types import BoolArray, FloatArray, IntArray
from matching.candidates import candidate_pairs
from matching.coverage import CoverageRules, covered_channels
from matching.dataset import (
    LEVELS,
    SIDES,
    Dataset,
    Indicator,
    Region,
    Source,
    Sourced,
    Tie,
    dataset_document,
    load_dataset,
    parse_dataset,
)
from matching.enterprises import (
    OWNERSHIPS,
    SIZE_BANDS,
    Enterprise,
    EnterpriseModel,
    MatchExplanation,
    Population,
    build_population,
    explain_match,
    population_arrays,
    population_from_arrays,
    search_partners,
    update_population,
)
from matching.errors import DatasetError, InfeasiblePlanError, UnknownRegionError
from matching.evaluation import (
    Attainment,
    CalibrationYear,
    EvaluationReport,
    IndicatorSummary,
    PairActivity,
    RegionGaps,
    activity_index,
    calibration,
    evaluation_report,
)
from matching.graph import build_graph, graphml_ready
from matching.network import Network, Side, network_from_dataset, synthetic_network
from matching.outcomes import (
    DEFAULT_HALF_LIFE_DAYS,
    INDICATOR_UNITS,
    OUTCOME_FIELDS,
    OUTCOME_INDICATORS,
    DrawnOutcome,
    Outcome,
    OutcomeEvidence,
    Target,
    decay,
    load_outcomes,
    outcome_evidence,
    parse_outcomes,
)
from matching.partners import PartnerFilters, PartnerMatch, PartnerPool, find_partners
from matching.plan import PlannedPair, PlanResult, PlanSettings, plan_network, solve_plan
from matching.profiles import build_dataset_document
from matching.rounds import Meeting, RoundResult, propose_round
from matching.scenario import (
    MAX_OVERRIDES,
    LinkMove,
    Override,
    Scenario,
    ScenarioDiff,
    ScenarioResult,
    apply_overrides,
    diff_results,
    evaluate_scenario,
)
from matching.scoring import (
    DIRECTIONS,
    MAX_WEIGHT,
    MIN_WEIGHT,
    ComponentScores,
    Contribution,
    LinkExplanation,
    OutcomeTerm,
    ScoredLink,
    Term,
    Weights,
    explain_link,
    outcome_terms,
    score_components,
    scored_links,
)
from matching.sensitivity import PlanChange, WeightInterval, weight_intervals
from matching.slots import assign_slots
from matching.stability import RegionStability, suggestion_stability
from matching.suggest import Suggestion, rank_links, suggest_all, suggest_partners
from matching.synthetic_enterprises import enterprises_per_side, generate_enterprises
from matching.taxonomy import FACTOR_IDS, Taxonomy, load_taxonomy, parse_taxonomy

__all__ = [
    "Attainment",
    "BoolArray",
    "CalibrationYear",
    "ComponentScores",
    "Contribution",
    "CoverageRules",
    "DEFAULT_HALF_LIFE_DAYS",
    "DIRECTIONS",
    "Dataset",
    "DatasetError",
    "DrawnOutcome",
    "Enterprise",
    "EnterpriseModel",
    "EvaluationReport",
    "FACTOR_IDS",
    "FloatArray",
    "INDICATOR_UNITS",
    "Indicator",
    "IndicatorSummary",
    "InfeasiblePlanError",
    "IntArray",
    "LEVELS",
    "LinkExplanation",
    "LinkMove",
    "MAX_OVERRIDES",
    "MAX_WEIGHT",
    "MIN_WEIGHT",
    "MatchExplanation",
    "Meeting",
    "Network",
    "OUTCOME_FIELDS",
    "OUTCOME_INDICATORS",
    "OWNERSHIPS",
    "Outcome",
    "OutcomeEvidence",
    "OutcomeTerm",
    "Override",
    "PairActivity",
    "PartnerFilters",
    "PartnerMatch",
    "PartnerPool",
    "PlanChange",
    "PlanResult",
    "PlanSettings",
    "PlannedPair",
    "Population",
    "Region",
    "RegionGaps",
    "RegionStability",
    "RoundResult",
    "SIDES",
    "SIZE_BANDS",
    "Scenario",
    "ScenarioDiff",
    "ScenarioResult",
    "ScoredLink",
    "Side",
    "Source",
    "Sourced",
    "Suggestion",
    "Target",
    "Taxonomy",
    "Term",
    "Tie",
    "UnknownRegionError",
    "WeightInterval",
    "Weights",
    "activity_index",
    "apply_overrides",
    "assign_slots",
    "build_dataset_document",
    "build_graph",
    "build_population",
    "calibration",
    "candidate_pairs",
    "covered_channels",
    "dataset_document",
    "decay",
    "diff_results",
    "enterprises_per_side",
    "evaluate_scenario",
    "evaluation_report",
    "explain_link",
    "explain_match",
    "find_partners",
    "generate_enterprises",
    "graphml_ready",
    "load_dataset",
    "load_outcomes",
    "load_taxonomy",
    "network_from_dataset",
    "outcome_evidence",
    "outcome_terms",
    "parse_dataset",
    "parse_outcomes",
    "parse_taxonomy",
    "plan_network",
    "population_arrays",
    "population_from_arrays",
    "propose_round",
    "rank_links",
    "score_components",
    "scored_links",
    "search_partners",
    "solve_plan",
    "suggest_all",
    "suggest_partners",
    "suggestion_stability",
    "synthetic_network",
    "update_population",
    "weight_intervals",
]
