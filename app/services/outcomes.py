"""Outcomes and targets: recorded, imported and seeded; read through this worker's cache.

Every write bumps a revision in the same transaction (`app.storage.outcomes`); before an
evaluation or a dated score the worker compares it with its cache's (one lookup) and reloads the
outcomes and targets only when another write happened since. The shipped outcomes
(`matching/data/outcomes.json`) are seeded on first start, and replaced when a newer version
ships; outcomes recorded through the API are never touched by that.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from app.errors import InvalidInput, NotFound, Problem
from app.outcome_files import OUTCOME_FORMAT
from app.services.datasets import DatasetState
from app.services.imports import ProblemLog, RowParser, RowProblems, parsed_rows
from app.storage import outcomes as store
from app.storage.database import Database
from app.storage.outcomes import StoredOutcome, StoredTarget
from matching import OUTCOME_INDICATORS, Outcome, Target, load_dataset, load_outcomes

__all__ = [
    "OutcomeBook",
    "OutcomePage",
    "OutcomeService",
    "TargetWrite",
    "dated",
    "outcome_problems",
    "undated",
]


@dataclass(frozen=True, eq=False)
class OutcomeBook:
    """Every outcome and target at one revision (immutable: shared by concurrent requests)."""

    revision: int
    outcomes: tuple[Outcome, ...]
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class OutcomePage:
    """A page of stored outcomes and how many match the filters."""

    items: list[Outcome]
    total: int


@dataclass(frozen=True)
class TargetWrite:
    """A target as stored, and whether the write created it."""

    target: Target
    created: bool


def _outcome(stored: StoredOutcome) -> Outcome:
    return Outcome(
        northeast=stored.northeast,
        east=stored.east,
        indicator=stored.indicator,
        value=stored.value,
        date=stored.date,
        channels=stored.channels,
        source=stored.source,
        note=stored.note,
        northeast_enterprise=stored.northeast_enterprise,
        east_enterprise=stored.east_enterprise,
        id=stored.id,
    )


def _target(stored: StoredTarget) -> Target:
    return Target(
        stored.northeast, stored.east, stored.year, stored.indicator, stored.value, stored.id
    )


def _values(outcome: Outcome) -> dict[str, Any]:
    values = dict(vars(outcome))
    del values["id"]
    return values


def _pair_problems(state: DatasetState, northeast: str, east: str) -> list[Problem]:
    problems = []
    for field, region, side in (("northeast", northeast, "northeast"), ("east", east, "east")):
        found = next(
            (name for name in ("northeast", "east") if region in state.network.side(name).index),
            None,
        )
        if found is None:
            problems.append(Problem(field=field, error=f"no region with id {region!r}"))
        elif found != side:
            problems.append(
                Problem(field=field, error=f"{region!r} is a {found} region, not {side}")
            )
    return problems


def outcome_problems(state: DatasetState, outcome: Outcome) -> list[Problem]:
    """What a schema cannot see: regions of the active dataset on their sides, known channels."""
    problems = _pair_problems(state, outcome.northeast, outcome.east)
    if outcome.indicator not in OUTCOME_INDICATORS:
        problems.append(
            Problem(field="indicator", error=f"unknown indicator {outcome.indicator!r}")
        )
    for channel in outcome.channels:
        if channel not in state.taxonomy.channel_ids:
            problems.append(Problem(field="channels", error=f"unknown channel {channel!r}"))
    return problems


def _checked(state: DatasetState, outcome: Outcome) -> Outcome:
    problems = outcome_problems(state, outcome)
    if problems:
        raise InvalidInput.listing(problems)
    return outcome


class OutcomeService:
    """Outcomes and targets over the database, with this worker's cache of them."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._book: OutcomeBook | None = None

    def start(self) -> None:
        """Seed the shipped outcomes on first start, or when a newer version ships."""
        version, shipped = load_outcomes(load_dataset())
        with self.database.write() as session:
            if store.seed_version(session) != version:
                store.replace_shipped(session, version, [_values(o) for o in shipped])

    def book(self) -> OutcomeBook:
        """Every outcome and target, as of the last write (reloaded only after one)."""
        with self.database.read() as session:
            current = store.revision(session)
        book = self._book
        if book is not None and book.revision == current:
            return book
        with self._lock:
            if self._book is None or self._book.revision != current:
                with self.database.read() as session:
                    # Read in the same snapshot as the revision, so the book matches it.
                    revision = store.revision(session)
                    outcomes = tuple(_outcome(s) for s in store.all_outcomes(session))
                    targets = tuple(_target(s) for s in store.all_targets(session))
                self._book = OutcomeBook(revision, outcomes, targets)
            return self._book

    # Outcomes.

    def create(self, state: DatasetState, outcome: Outcome) -> Outcome:
        """Record an outcome (its references checked against the active dataset)."""
        values = _values(_checked(state, outcome))
        with self.database.write() as session:
            (stored,) = store.insert_outcomes(session, [values])
        return _outcome(stored)

    def get(self, outcome_id: int) -> Outcome:
        """A stored outcome; 404 if there is none."""
        with self.database.read() as session:
            stored = store.get_outcome(session, outcome_id)
        if stored is None:
            raise NotFound(f"no outcome with id {outcome_id}")
        return _outcome(stored)

    def replace(self, state: DatasetState, outcome_id: int, outcome: Outcome) -> Outcome:
        """Replace a stored outcome whole; 404 if there is none."""
        values = _values(_checked(state, outcome))
        with self.database.write() as session:
            stored = store.replace_outcome(session, outcome_id, values)
        if stored is None:
            raise NotFound(f"no outcome with id {outcome_id}")
        return _outcome(stored)

    def delete(self, outcome_id: int) -> None:
        """Delete an outcome; 404 if there is none."""
        with self.database.write() as session:
            if not store.delete_outcome(session, outcome_id):
                raise NotFound(f"no outcome with id {outcome_id}")

    def page(
        self,
        *,
        northeast: str | None,
        east: str | None,
        indicator: str | None,
        first: date | None,
        last: date | None,
        limit: int,
        offset: int,
    ) -> OutcomePage:
        """A page of outcomes, oldest first."""
        with self.database.read() as session:
            items, total = store.list_outcomes(
                session,
                northeast=northeast,
                east=east,
                indicator=indicator,
                first=first,
                last=last,
                limit=limit,
                offset=offset,
            )
        return OutcomePage([_outcome(s) for s in items], total)

    def import_file(
        self, state: DatasetState, path: Path, kind: str, parse: RowParser[Outcome]
    ) -> list[Outcome]:
        """Record every outcome of a CSV or JSON Lines file, all or nothing.

        Raises
        ------
        ImportFailed
            Listing every bad row; nothing is written.
        """
        log = ProblemLog()
        rows: list[dict[str, Any]] = []
        for row_number, parsed in parsed_rows(path, kind, parse, OUTCOME_FORMAT):
            if not isinstance(parsed, Outcome):
                log.add(row_number, parsed)
                continue
            problems: RowProblems = outcome_problems(state, parsed)
            if problems:
                log.add(row_number, problems)
            elif not log.bad:
                rows.append(_values(parsed))
        log.raise_if_bad()
        with self.database.write() as session:
            stored = store.insert_outcomes(session, rows)
        return [_outcome(s) for s in stored]

    # Targets.

    def set_target(self, state: DatasetState, target: Target) -> TargetWrite:
        """Set the target of a pair, year and indicator (replacing one that was set)."""
        problems = _pair_problems(state, target.northeast, target.east)
        if problems:
            raise InvalidInput.listing(problems)
        values = {k: v for k, v in vars(replace(target, id=None)).items() if k != "id"}
        with self.database.write() as session:
            stored, created = store.upsert_target(session, values)
        return TargetWrite(_target(stored), created)

    def targets(self, *, northeast: str | None, east: str | None, year: int | None) -> list[Target]:
        """The targets set, by year, pair and indicator, optionally of one pair or year."""
        return [
            t
            for t in self.book().targets
            if (northeast is None or t.northeast == northeast)
            and (east is None or t.east == east)
            and (year is None or t.year == year)
        ]

    def delete_target(self, target_id: int) -> None:
        """Delete a target; 404 if there is none."""
        with self.database.write() as session:
            if not store.delete_target(session, target_id):
                raise NotFound(f"no target with id {target_id}")


def dated(state: DatasetState, outcomes: OutcomeService, as_of: date | None) -> DatasetState:
    """The state at `as_of` (default: the adoption) with the outcomes dated by then."""
    book = outcomes.book()
    return state.dated(as_of, book.outcomes, book.revision)


def undated(as_of: date | None) -> None:
    """Refuse an evaluation date where results are kept: they are read at the adoption date."""
    if as_of is not None:
        raise InvalidInput(
            "`scenario.as_of`: saved scenarios are evaluated at the plan's adoption; evaluate "
            "other dates with POST /scenarios/evaluate"
        )
