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
"""

from matching._records import DatasetError
from matching.dataset import Dataset, Region, Tie, load_dataset, parse_dataset
from matching.enterprises import (
    Enterprise,
    EnterpriseModel,
    Population,
    build_population,
    explain_match,
    search_partners,
)
from matching.graph import build_graph, graphml_ready
from matching.network import Network, Side, network_from_dataset, synthetic_network
from matching.plan import (
    InfeasiblePlanError,
    PlannedPair,
    PlanResult,
    PlanSettings,
    plan_network,
    solve_plan,
)
from matching.rounds import RoundResult, propose_round
from matching.scenario import (
    Override,
    Scenario,
    ScenarioDiff,
    ScenarioResult,
    apply_overrides,
    diff_results,
    evaluate_scenario,
)
from matching.scoring import (
    ComponentScores,
    Contribution,
    LinkExplanation,
    Term,
    Weights,
    explain_link,
    score_components,
)
from matching.sensitivity import PlanChange, WeightInterval, weight_intervals
from matching.suggest import Suggestion, UnknownRegionError, rank_links, suggest_partners
from matching.synthetic_enterprises import generate_enterprises
from matching.taxonomy import FACTOR_IDS, Taxonomy, load_taxonomy, parse_taxonomy

__all__ = [
    "Enterprise",
    "EnterpriseModel",
    "Population",
    "RoundResult",
    "build_population",
    "explain_match",
    "generate_enterprises",
    "propose_round",
    "search_partners",
    "Override",
    "PlanChange",
    "Scenario",
    "ScenarioDiff",
    "ScenarioResult",
    "WeightInterval",
    "apply_overrides",
    "diff_results",
    "evaluate_scenario",
    "weight_intervals",
    "FACTOR_IDS",
    "ComponentScores",
    "Contribution",
    "Dataset",
    "DatasetError",
    "InfeasiblePlanError",
    "LinkExplanation",
    "Network",
    "PlanResult",
    "PlanSettings",
    "PlannedPair",
    "Region",
    "Side",
    "Suggestion",
    "Taxonomy",
    "Term",
    "Tie",
    "UnknownRegionError",
    "Weights",
    "build_graph",
    "explain_link",
    "graphml_ready",
    "load_dataset",
    "load_taxonomy",
    "network_from_dataset",
    "parse_dataset",
    "parse_taxonomy",
    "plan_network",
    "rank_links",
    "score_components",
    "solve_plan",
    "suggest_partners",
    "synthetic_network",
]
