"""Partner search for a registered enterprise or a profile typed in, through `find_partners`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection

from app.errors import Conflict, InvalidInput, NotFound, engine_errors
from app.services.datasets import ActiveDataset, DatasetState
from app.services.enterprise_index import EnterpriseIndex, enterprise_of
from app.services.enterprises import EnterpriseService, NeedsTransaction, reference_problems
from app.storage import enterprises as store
from app.storage.enterprises import EnterpriseCard
from matching import SIDES, Enterprise, PartnerFilters, PartnerMatch, find_partners

__all__ = ["PartnerResult", "partners_of", "search"]


@dataclass(frozen=True)
class PartnerResult:
    """Partners found, best first, with the stored cards of the partners.

    `state` is the dataset they were found with (the one active when the search read).
    """

    state: DatasetState
    enterprise: str | None
    matches: list[PartnerMatch]
    records: Mapping[str, EnterpriseCard]


def _find(
    service: EnterpriseService,
    active: ActiveDataset,
    query_of: Callable[[Connection, DatasetState, EnterpriseIndex, bool], Enterprise],
    *,
    k: int,
    channel: str | None,
    filters: PartnerFilters,
    enterprise: str | None,
) -> PartnerResult:
    def run(
        session: Connection, state: DatasetState, index: EnterpriseIndex, outside: bool
    ) -> PartnerResult:
        query = query_of(session, state, index, outside)
        side = index.model.network.locate(query.region, field="region")[0]
        partner_side = "east" if side == "northeast" else "northeast"
        with engine_errors():
            matches = find_partners(
                index.model, index.sides[partner_side], query, k=k, channel=channel, filters=filters
            )
        records = index.cards_of(session, [m.id for m in matches], outside=outside)
        return PartnerResult(state=state, enterprise=enterprise, matches=matches, records=records)

    return service.search_read(active, run)


def _registered(
    session: Connection, state: DatasetState, index: EnterpriseIndex, ident: str, outside: bool
) -> Enterprise:
    # The index holds the profile as of this read: no database round trip.
    profile = index.profile(ident)
    if profile is not None:
        return profile
    if outside:
        raise NeedsTransaction  # the database as of the index: in a read transaction only
    stored = store.get_enterprises(session, [ident]).get(ident)
    if stored is None:
        raise NotFound(f"no enterprise with id {ident!r}")
    if any(stored.region in state.network.side(side).index for side in SIDES):
        # Imported since the index was built (a rebuild in the background catches up).
        return enterprise_of(stored)
    raise Conflict(
        f"enterprise {ident!r} is in region {stored.region!r}, which dataset "
        f"{state.version!r} does not have"
    )


def partners_of(
    service: EnterpriseService,
    active: ActiveDataset,
    enterprise_id: str,
    *,
    k: int,
    channel: str | None,
    filters: PartnerFilters,
) -> PartnerResult:
    """The best partners of a stored enterprise on the other side."""
    # The query's profile is read as of the search's own read.
    return _find(
        service,
        active,
        lambda session, state, index, outside: _registered(
            session, state, index, enterprise_id, outside
        ),
        k=k,
        channel=channel,
        filters=filters,
        enterprise=enterprise_id,
    )


def search(
    service: EnterpriseService,
    active: ActiveDataset,
    profile: Enterprise,
    *,
    k: int,
    channel: str | None,
    filters: PartnerFilters,
) -> PartnerResult:
    """The best partners of a profile that is not registered."""

    def checked(_: Connection, state: DatasetState, __: EnterpriseIndex, ___: bool) -> Enterprise:
        problems = reference_problems(
            {"region": profile.region, "offers": profile.offers, "seeks": profile.seeks}, state
        )
        if problems:
            raise InvalidInput.listing(problems)
        return profile

    return _find(
        service,
        active,
        checked,
        k=k,
        channel=channel,
        filters=filters,
        enterprise=None,
    )
