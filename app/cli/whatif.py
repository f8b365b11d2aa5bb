"""`counterpart what-if`: scenarios on the command line, printed as tables or the API's JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from app import convert
from app.errors import USER_ERRORS
from app.services import scenarios
from app.services.datasets import DatasetState, shipped_document, standalone_state
from app.services.work import WorkBudget
from app.settings import get_settings
from schemas.scenarios import PairOut, PlanChangeOut, ScenarioIn, ScenarioOut

__all__ = [
    "SweepRow",
    "WhatIfError",
    "evaluate",
    "load_state",
    "print_result",
    "print_sweep",
    "read_scenario",
    "sweep",
    "sweep_json",
]


#: What reading a dataset file can raise besides a user error.
FILE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    UnicodeDecodeError,
    json.JSONDecodeError,
    *USER_ERRORS,
)


class WhatIfError(Exception):
    """A problem to report in one line and exit with status 1."""


def load_state(dataset: Path | None) -> DatasetState:
    """The model of a dataset file, or of the shipped dataset."""
    try:
        if dataset is None:
            return standalone_state(shipped_document(), origin="shipped")
        document = json.loads(dataset.read_text("utf-8"))
        return standalone_state(document, origin=str(dataset))
    except FILE_ERRORS as exc:
        where = "the shipped dataset" if dataset is None else f"the dataset {dataset}"
        raise WhatIfError(f"cannot load {where}: {exc}") from exc


def read_scenario(path: Path) -> ScenarioIn:
    """A scenario file, validated as POST /scenarios/evaluate would."""
    try:
        return ScenarioIn.model_validate_json(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise WhatIfError(f"cannot read {path}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise WhatIfError(f"{path}: {problems}") from exc


def evaluate(state: DatasetState, body: ScenarioIn, *, sensitivity: bool = True) -> ScenarioOut:
    """Evaluate, turning request errors into one-line messages."""
    settings = get_settings()
    budget = WorkBudget.of(settings.work_seconds, settings.work_memory_mb)
    try:
        scenario = convert.scenario_in(body, state.taxonomy)
        view = scenarios.evaluate(state, scenario, budget, sensitivity=sensitivity)
        return convert.scenario_out(state, view)
    except USER_ERRORS as exc:
        raise WhatIfError(str(exc)) from exc


def _pairs(pairs: list[PairOut]) -> str:
    return ", ".join(f"{p.northeast}–{p.east}" for p in pairs) or "—"


def _change(change: PlanChangeOut | None) -> str:
    if change is None:
        return "—"
    return f"+{_pairs(change.entering)} / −{_pairs(change.leaving)} ({change.reason})"


def print_result(result: ScenarioOut, console: Console | None = None) -> None:
    """The plan, the diff and the sensitivity as tables."""
    console = console or Console()
    diff = result.diff
    console.print(
        f"[bold]dataset[/bold] {result.dataset_version}   [bold]objective[/bold] "
        f"{diff.baseline_objective:.4f} (baseline) → {diff.scenario_objective:.4f}"
    )
    entered = {(p.northeast, p.east) for p in diff.entered}
    plan = Table(title=f"Plan ({len(result.plan.pairs)} pairs)")
    for column in ("northeast", "east", "score", ""):
        plan.add_column(column)
    for pair in result.plan.pairs:
        mark = (
            "pinned" if pair.pinned else ("new" if (pair.northeast, pair.east) in entered else "")
        )
        plan.add_row(pair.northeast, pair.east, f"{pair.score:.4f}", mark)
    console.print(plan)
    console.print(f"[green]entered[/green] {_pairs(diff.entered)}")
    console.print(f"[red]left[/red]    {_pairs(diff.left)}")
    moves = Table(title=f"Links that moved ({diff.moved_total}; largest first)")
    for column in ("northeast", "east", "rank", "score"):
        moves.add_column(column)
    for move in diff.moves[:15]:
        moves.add_row(
            move.northeast,
            move.east,
            f"{move.baseline_rank} → {move.scenario_rank}",
            f"{move.baseline_score:.4f} → {move.scenario_score:.4f}",
        )
    console.print(moves)
    sensitivity = Table(title="Each weight's interval with the same plan (others held)")
    for column in ("component", "weight", "interval", "below it", "above it"):
        sensitivity.add_column(column)
    for interval in result.sensitivity:
        upper = "∞" if interval.upper is None else f"{interval.upper:.6f}"
        sensitivity.add_row(
            interval.component,
            f"{interval.weight:g}",
            f"[{interval.lower:.6f}, {upper}]",
            _change(interval.below),
            _change(interval.above),
        )
    console.print(sensitivity)


@dataclass(frozen=True)
class SweepRow:
    """The plan at one value of the swept weight."""

    value: float
    objective: float
    pairs: int
    entered: list[PairOut]
    left: list[PairOut]


def _parse_sweep(spec: str, state: DatasetState) -> tuple[str, list[float]]:
    name, _, bounds = spec.partition("=")
    parts = bounds.split(":")
    if not name or len(parts) != 3:
        raise WhatIfError(f"--sweep {spec!r}: write it as component=start:stop:step")
    try:
        start, stop, step = (float(p) for p in parts)
    except ValueError:
        start = stop = step = math.nan
    if not all(math.isfinite(x) for x in (start, stop, step)):
        raise WhatIfError(f"--sweep {spec!r}: start, stop and step must be finite numbers")
    if name not in state.taxonomy.component_ids:
        raise WhatIfError(
            f"--sweep: unknown component {name!r}; expected one of "
            f"{', '.join(state.taxonomy.component_ids)}"
        )
    if step <= 0 or stop < start or (stop - start) / step > 1000:
        raise WhatIfError(f"--sweep {spec!r}: need step > 0, stop >= start, at most 1000 steps")
    count = int((stop - start) / step + 1e-9) + 1
    return name, [round(start + n * step, 12) for n in range(count)]


def sweep(state: DatasetState, body: ScenarioIn, spec: str) -> list[SweepRow]:
    """Evaluate the scenario at each value of one weight."""
    name, values = _parse_sweep(spec, state)
    group = "channels" if name in state.taxonomy.channel_ids else "factors"
    rows = []
    for value in values:
        weights = body.weights.model_copy(
            update={group: {**getattr(body.weights, group), name: value}}
        )
        swept = body.model_copy(update={"weights": weights, "moves": 0})
        result = evaluate(state, swept, sensitivity=False)
        rows.append(
            SweepRow(
                value=value,
                objective=result.plan.objective,
                pairs=len(result.plan.pairs),
                entered=result.diff.entered,
                left=result.diff.left,
            )
        )
    return rows


def sweep_json(rows: list[SweepRow]) -> str:
    """The sweep as JSON."""
    return json.dumps(
        [
            {
                "value": r.value,
                "objective": r.objective,
                "pairs": r.pairs,
                "entered": [p.model_dump() for p in r.entered],
                "left": [p.model_dump() for p in r.left],
            }
            for r in rows
        ],
        indent=2,
    )


def print_sweep(rows: list[SweepRow], spec: str, console: Console | None = None) -> None:
    """The sweep as a table, against the baseline plan."""
    console = console or Console()
    table = Table(title=f"Sweep {spec}: the plan against the baseline")
    for column in ("weight", "objective", "pairs", "entered", "left"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            f"{row.value:g}",
            f"{row.objective:.4f}",
            str(row.pairs),
            _pairs(row.entered),
            _pairs(row.left),
        )
    console.print(table)
