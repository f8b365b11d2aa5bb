"""Services behind the enterprise endpoints: profiles, partner search and bulk import."""

from __future__ import annotations

import csv
import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.enterprise_index import (
    EnterpriseIndex,
    IndexKeeper,
    StaleRead,
    enterprise_of,
    filters_for,
)
from app.errors import Conflict, InvalidInput, NotFound
from app.model import ModelState
from app.storage import enterprises as store
from app.storage.database import Sessions
from matching import Taxonomy
from matching.enterprise_files import ENTERPRISE_FIELDS
from matching.enterprises import OWNERSHIPS, SIZE_BANDS, Enterprise, explain_match
from schemas.common import ErrorItem
from schemas.enterprises import (
    EnterpriseIn,
    EnterpriseList,
    EnterpriseOut,
    EnterprisePatch,
    ImportReport,
    PartnerList,
    PartnerOut,
    PartnerQuery,
    TermOut,
)

__all__ = [
    "CSV_COLUMNS",
    "EnterpriseService",
    "ImportFailed",
    "Participant",
    "ParticipantSource",
    "PartnerFilters",
    "import_format",
]

#: The columns of an import CSV, as the generator writes them.
CSV_COLUMNS = ENTERPRISE_FIELDS
#: Most row errors an import lists (it counts them all).
MAX_LISTED_ERRORS = 1000
#: Rows written per statement during an import.
IMPORT_BATCH = 5000


class ImportFailed(InvalidInput):
    """An import with bad rows: nothing was written."""

    code = "InvalidImport"


class Participant(NamedTuple):
    """An enterprise taking part in a round: its profile, name and existing partners' ids."""

    enterprise: Enterprise
    name: str
    partners: Sequence[str]


class ParticipantSource(Protocol):
    """Looks up participants: profiles of `ids` in order; `NotFound` naming every unknown id."""

    def __call__(self, ids: list[str], side: str) -> list[Participant]:
        """The participants with these ids, in order (`side`: the list they were given in)."""
        ...


@dataclass(frozen=True)
class PartnerFilters:
    """What a partner search asks for besides the querying profile."""

    k: int = 10
    channel: str | None = None
    region: str | None = None
    ownership: str | None = None
    size: str | None = None
    min_score: float | None = None


def _reference_errors(values: dict[str, Any], state: ModelState) -> list[ErrorItem]:
    """Problems a schema cannot see: a region or sector the dataset does not have."""
    errors = []
    region = values.get("region")
    if isinstance(region, str):
        try:
            state.network.locate(region)
        except KeyError:
            errors.append(ErrorItem(field="region", error=f"no region with id {region!r}"))
    taxonomy: Taxonomy = state.taxonomy
    for kind in ("offers", "seeks"):
        sectors = values.get(kind)
        for sector in sectors if isinstance(sectors, dict) else ():
            if sector not in taxonomy.sector_index:
                errors.append(
                    ErrorItem(field=f"{kind}.{sector}", error=f"unknown sector {sector!r}")
                )
    return errors


def _schema_errors(exc: ValidationError) -> list[ErrorItem]:
    return [
        ErrorItem(field=".".join(str(p) for p in e["loc"]) or "row", error=e["msg"])
        for e in exc.errors()
    ]


def _check(values: dict[str, Any], state: ModelState) -> None:
    errors = _reference_errors(values, state)
    if errors:
        detail = "; ".join(f"{e.field}: {e.error}" for e in errors)
        raise InvalidInput(detail, errors=errors)


def _out(stored: store.StoredEnterprise) -> EnterpriseOut:
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
        contact=stored.contact,
        partners=stored.partners,
        updated_at=stored.updated_at,
    )


def _split_sectors(text: str, column: str) -> dict[str, float] | str:
    """`sector:value;sector:value` to a dict, or the problem as a string."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        sector, sep, value = part.partition(":")
        try:
            out[sector.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            return f"{part!r} is not sector:value (write e.g. grain:0.8;forest_products:0.5)"
    return out


def _csv_record(cells: dict[str, str]) -> tuple[dict[str, Any], list[ErrorItem]]:
    values: dict[str, Any] = {}
    errors = []
    for column, cell in cells.items():
        cell = cell.strip()
        if column in ("offers", "seeks"):
            parsed = _split_sectors(cell, column)
            if isinstance(parsed, str):
                errors.append(ErrorItem(field=column, error=parsed))
            else:
                values[column] = parsed
        elif column == "partners":
            values[column] = [p.strip() for p in cell.split(";") if p.strip()]
        elif column == "founded":
            if cell:
                try:
                    values[column] = int(cell)
                except ValueError:
                    errors.append(ErrorItem(field=column, error=f"{cell!r} is not a year"))
        elif column == "contact":
            values[column] = cell or None
        elif cell or column == "description":
            values[column] = cell
    return values, errors


def _csv_rows(text: IO[str]) -> Iterator[tuple[int, dict[str, Any], list[ErrorItem]]]:
    reader = csv.reader(text)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [h for h in ("id", "name", "region") if h not in header]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if unknown or missing or repeated:
        problems = []
        if unknown:
            problems.append(f"unknown columns {unknown}")
        if missing:
            problems.append(f"missing columns {missing}")
        if repeated:
            problems.append(f"repeated columns {repeated}")
        raise InvalidInput(
            f"CSV header: {'; '.join(problems)}; the columns are {', '.join(CSV_COLUMNS)}",
            errors=[ErrorItem(field="header", error="; ".join(problems), row=1)],
        )
    for row_number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield (
                row_number,
                {},
                [
                    ErrorItem(
                        field="row",
                        error=f"{len(cells)} cells for {len(header)} columns",
                    )
                ],
            )
            continue
        values, errors = _csv_record(dict(zip(header, cells, strict=True)))
        yield row_number, values, errors


def _jsonl_rows(text: IO[str]) -> Iterator[tuple[int, dict[str, Any], list[ErrorItem]]]:
    for row_number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            values = json.loads(line)
        except json.JSONDecodeError as exc:
            yield row_number, {}, [ErrorItem(field="row", error=f"not valid JSON: {exc.msg}")]
            continue
        if not isinstance(values, dict):
            yield row_number, {}, [ErrorItem(field="row", error="must be a JSON object")]
            continue
        yield row_number, values, []


def import_format(content_type: str | None, filename: str | None = None) -> str:
    """`csv` or `jsonl` from a content type (or, failing that, a file name)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        return "csv"
    if kind in ("application/x-ndjson", "application/jsonl", "application/json-lines",
                "application/x-jsonlines", "application/ndjson"):  # fmt: skip
        return "jsonl"
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise InvalidInput(
        f"unsupported content type {content_type!r}: send text/csv or application/x-ndjson"
    )


class EnterpriseService:
    """Enterprise reads and writes over the database, with this worker's index."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.keeper = IndexKeeper()

    @contextmanager
    def reading(self, state: ModelState) -> Iterator[tuple[Session, EnterpriseIndex]]:
        """A read transaction and the index as of its snapshot of the database."""
        for _ in range(100):
            with self.sessions() as session:
                try:
                    index = self.keeper.sync(session, state)
                except StaleRead:
                    continue
                yield session, index
                return
        raise RuntimeError("the index kept moving past every read; too many writes at once")

    # Reads ------------------------------------------------------------------------------------

    def get(self, enterprise_id: str) -> EnterpriseOut:
        """One stored enterprise; 404 if there is none."""
        with self.sessions() as session:
            stored = store.get_enterprises(session, [enterprise_id]).get(enterprise_id)
        if stored is None:
            raise NotFound(f"no enterprise with id {enterprise_id!r}")
        return _out(stored)

    def list_page(
        self,
        state: ModelState,
        *,
        cursor: str | None,
        limit: int,
        region: str | None,
        side: str | None,
        sector: str | None,
        ownership: str | None,
        size: str | None,
    ) -> EnterpriseList:
        """A page of enterprises in id order, filtered."""
        if sector is not None and sector not in state.taxonomy.sector_index:
            raise InvalidInput(f"`sector`: unknown sector {sector!r}")
        with self.reading(state) as (session, index):
            sides: tuple[str, ...] = ("northeast", "east") if side is None else (side,)
            region_code = None
            if region is not None:
                region_side = index.side_of_region(region)
                if region_side is None:
                    raise InvalidInput(f"`region`: no region with id {region!r}")
                sides = tuple(s for s in sides if s == region_side)
                region_code = index.model.network.side(region_side).index[region]
            sector_features = None
            if sector is not None:
                s = state.taxonomy.sector_index[sector]
                sector_features = (s, len(state.taxonomy.sectors) + s)
            ids: list[str] = []
            for name in sides:
                ids += index.sides[name].page(
                    after=cursor or "",
                    limit=limit + 1,
                    region=region_code,
                    sector_features=sector_features,
                    ownership=None if ownership is None else _code(ownership, "ownership"),
                    size=None if size is None else _code(size, "size"),
                )
            ids = sorted(ids)[: limit + 1]
            rows = store.get_enterprises(session, ids[:limit])
        items = [_out(rows[i]) for i in ids[:limit] if i in rows]
        more = len(ids) > limit
        return EnterpriseList(items=items, next_cursor=ids[limit - 1] if more else None)

    # Writes -----------------------------------------------------------------------------------

    def _write(
        self,
        state: ModelState,
        enterprise_id: str,
        body: Callable[[Session], EnterpriseIn],
    ) -> tuple[EnterpriseOut, bool]:
        """Write the profile `body` makes, reading and writing in one write transaction.

        The transaction holds the write lock from its start, so what `body` reads (does the id
        exist, what does the profile hold now) cannot change before the write: two creates of
        one id, or two patches of one profile, are serialised instead of racing.
        """
        with self.sessions.begin() as session:
            values = body(session).model_dump()
            values["id"] = enterprise_id
            _check(values, state)
            values["side"] = state.network.locate(values["region"])[0]
            created = store.upsert_enterprises(session, [store.record(values, now=store.now())])
            stored = store.get_enterprises(session, [enterprise_id])[enterprise_id]
        return _out(stored), created == 1

    def create(self, state: ModelState, body: EnterpriseIn) -> EnterpriseOut:
        """Store a new enterprise; 409 if its id is taken."""
        enterprise_id = body.id or f"e{secrets.token_hex(8)}"

        def new(session: Session) -> EnterpriseIn:
            if store.get_enterprises(session, [enterprise_id]):
                raise Conflict(f"an enterprise with id {enterprise_id!r} already exists")
            return body

        return self._write(state, enterprise_id, new)[0]

    def replace(
        self, state: ModelState, enterprise_id: str, body: EnterpriseIn
    ) -> tuple[EnterpriseOut, bool]:
        """Create or replace the enterprise at this id; whether it was created."""
        if body.id is not None and body.id != enterprise_id:
            raise InvalidInput(
                f"`id`: the body says {body.id!r} but the path says {enterprise_id!r}"
            )
        return self._write(state, enterprise_id, lambda _: body)

    def patch(self, state: ModelState, enterprise_id: str, body: EnterprisePatch) -> EnterpriseOut:
        """Change some fields of a stored enterprise."""

        def merged(session: Session) -> EnterpriseIn:
            current = store.get_enterprises(session, [enterprise_id]).get(enterprise_id)
            if current is None:
                raise NotFound(f"no enterprise with id {enterprise_id!r}")
            values = {**_out(current).model_dump(exclude={"side", "updated_at"}),
                      **body.model_dump(exclude_unset=True)}  # fmt: skip
            try:
                return EnterpriseIn.model_validate(values)
            except ValidationError as exc:
                errors = _schema_errors(exc)
                detail = "; ".join(f"{e.field}: {e.error}" for e in errors)
                raise InvalidInput(detail, errors=errors) from None

        return self._write(state, enterprise_id, merged)[0]

    def delete(self, enterprise_id: str) -> None:
        """Delete an enterprise; 404 if there is none."""
        with self.sessions.begin() as session:
            if not store.delete_enterprise(session, enterprise_id):
                raise NotFound(f"no enterprise with id {enterprise_id!r}")

    # Partner search ---------------------------------------------------------------------------

    def participants(self, ids: list[str], side: str) -> list[Participant]:
        """Round participants by id, in order (a `ParticipantSource`); 404 naming unknown ids."""
        with self.sessions() as session:
            rows = store.get_enterprises(session, ids)
        missing = [i for i in ids if i not in rows]
        if missing:
            shown = ", ".join(repr(i) for i in missing[:20])
            more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
            raise NotFound(f"`{side}`: no enterprise with id {shown}{more}")
        return [
            Participant(enterprise_of(rows[i]), rows[i].name, tuple(rows[i].partners)) for i in ids
        ]

    def partners_of(
        self, state: ModelState, enterprise_id: str, filters: PartnerFilters
    ) -> PartnerList:
        """The best partners of a stored enterprise on the other side."""
        with self.reading(state) as (session, index):
            # The index holds the profile as of this transaction: no database round trip.
            query = index.profile(enterprise_id)
            if query is None:
                stored = store.get_enterprises(session, [enterprise_id]).get(enterprise_id)
                if stored is None:
                    raise NotFound(f"no enterprise with id {enterprise_id!r}")
                raise Conflict(
                    f"enterprise {enterprise_id!r} is in region {stored.region!r}, which dataset "
                    f"{state.version!r} does not have"
                )
            partners = self._search(session, index, query, filters)
        return PartnerList(
            dataset_version=state.version, enterprise=enterprise_id, partners=partners
        )

    def search(self, state: ModelState, query: PartnerQuery) -> PartnerList:
        """The best partners of a profile that is not registered."""
        values = query.model_dump()
        _check(values, state)
        profile = Enterprise(id="", region=query.region, offers=query.offers, seeks=query.seeks)
        filters = PartnerFilters(
            k=query.k,
            channel=query.channel,
            region=query.partner_region,
            ownership=query.ownership,
            size=query.size,
            min_score=query.min_score,
        )
        with self.reading(state) as (session, index):
            partners = self._search(session, index, profile, filters)
        return PartnerList(dataset_version=state.version, enterprise=None, partners=partners)

    def _search(
        self, session: Session, index: EnterpriseIndex, query: Enterprise, filters: PartnerFilters
    ) -> list[PartnerOut]:
        model = index.model
        network = model.network
        side = network.locate(query.region)[0]
        partner_side = "east" if side == "northeast" else "northeast"
        if filters.channel is not None and filters.channel not in model.taxonomy.channel_ids:
            raise InvalidInput(
                f"`channel`: unknown channel {filters.channel!r}; expected one of "
                f"{', '.join(model.taxonomy.channel_ids)}"
            )
        if filters.region is not None and index.side_of_region(filters.region) != partner_side:
            where = index.side_of_region(filters.region)
            problem = "no region with id" if where is None else f"not a {partner_side} region:"
            raise InvalidInput(f"`region`: {problem} {filters.region!r}")
        features, coefficients = model.query(query, channel=filters.channel)
        row = network.side(side).index[query.region]
        term = model.region_term[row] if side == "northeast" else model.region_term[:, row]
        if filters.channel is not None:
            term = term * 0.0
        found = index.sides[partner_side].search(
            features,
            coefficients,
            term,
            k=filters.k,
            filters=filters_for(
                index,
                partner_side=partner_side,
                region=filters.region,
                ownership=filters.ownership,
                size=filters.size,
                min_score=filters.min_score,
            ),
        )
        rows = store.get_enterprises(session, [ident for ident, _ in found])
        out = []
        for ident, score in found:
            partner = rows[ident]
            pair = (query, enterprise_of(partner))
            explained = explain_match(model, *(pair if side == "northeast" else pair[::-1]))
            contributions = explained.contributions
            terms = explained.terms
            if filters.channel is not None:
                contributions = {filters.channel: contributions.get(filters.channel, 0.0)}
                channel_sectors = set(model.taxonomy.channel_sectors[filters.channel])
                terms = tuple(
                    t for t in terms if model.taxonomy.sector_index[t[0]] in channel_sectors
                )
            out.append(
                PartnerOut(
                    id=partner.id,
                    name=partner.name,
                    region=partner.region,
                    size=partner.size,
                    ownership=partner.ownership,
                    score=score,
                    contributions=contributions,
                    terms=[TermOut(sector=s, direction=d, value=v) for s, d, v in terms],
                )
            )
        return out

    # Bulk import ------------------------------------------------------------------------------

    def import_file(
        self,
        state: ModelState,
        path: Path,
        kind: str,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Validate and write every row of a CSV or JSON Lines file, all or nothing.

        Rows are read one at a time from the file and written in batches inside one transaction;
        at the first bad row writing stops, the rest is still checked so that every bad row is
        reported, and the transaction is rolled back: nothing is written.
        """
        errors: list[ErrorItem] = []
        bad = 0
        seen: dict[str, int] = {}
        batch: list[dict[str, Any]] = []
        created = written = 0
        now = store.now()
        with self.sessions.write_engine.connect() as connection:
            transaction = connection.begin()
            try:
                # utf-8-sig: a byte-order mark (as spreadsheets write) is not part of the header.
                with path.open("r", encoding="utf-8-sig", newline="") as text:
                    rows = _readable(_csv_rows(text) if kind == "csv" else _jsonl_rows(text))
                    for row_number, values, row_errors in _counted(rows, text, progress):
                        record = None
                        if not row_errors:
                            record, row_errors = self._import_record(
                                state, values, row_number, seen, now
                            )
                        if row_errors:
                            bad += 1
                            for error in row_errors:
                                if len(errors) < MAX_LISTED_ERRORS:
                                    errors.append(error.model_copy(update={"row": row_number}))
                            continue
                        if bad:
                            continue
                        assert record is not None
                        batch.append(record)
                        if len(batch) >= IMPORT_BATCH:
                            created += store.upsert_enterprises(connection, batch, log=False)
                            written += len(batch)
                            batch = []
                if bad:
                    raise ImportFailed(
                        f"{bad} row(s) are invalid; nothing was imported",
                        errors=errors,
                    )
                created += store.upsert_enterprises(connection, batch, log=False)
                written += len(batch)
                if written:
                    store.log_change(connection, None, "bulk")
                transaction.commit()
            except BaseException:
                transaction.rollback()
                raise
        return ImportReport(imported=written, created=created, updated=written - created)

    def _import_record(
        self,
        state: ModelState,
        values: dict[str, Any],
        row_number: int,
        seen: dict[str, int],
        now: Any,
    ) -> tuple[dict[str, Any] | None, list[ErrorItem]]:
        try:
            body = EnterpriseIn.model_validate(values)
        except ValidationError as exc:
            return None, _schema_errors(exc) + _reference_errors(values, state)
        if body.id is None:
            return None, [ErrorItem(field="id", error="an imported row needs an id")]
        first = seen.setdefault(body.id, row_number)
        if first != row_number:
            return None, [
                ErrorItem(field="id", error=f"duplicate id {body.id!r}, first at row {first}")
            ]
        dumped = body.model_dump()
        errors = _reference_errors(dumped, state)
        if errors:
            return None, errors
        dumped["side"] = state.network.locate(body.region)[0]
        return store.record(dumped, now=now), []


def _readable(
    rows: Iterator[tuple[int, dict[str, Any], list[ErrorItem]]],
) -> Iterator[tuple[int, dict[str, Any], list[ErrorItem]]]:
    """Pass rows on, ending with an error row if the file cannot be read on.

    A file that is not UTF-8, or a CSV cell beyond the csv module's limit, stops the reading: the
    problem is reported on the row after the last one read.
    """
    last = 0
    try:
        for item in rows:
            last = item[0]
            yield item
    except (UnicodeDecodeError, csv.Error) as exc:
        problem = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
        yield last + 1, {}, [ErrorItem(field="row", error=f"unreadable: {problem}")]


def _counted(
    rows: Iterator[tuple[int, dict[str, Any], list[ErrorItem]]],
    text: IO[str],
    progress: Callable[[int], None] | None,
) -> Iterator[tuple[int, dict[str, Any], list[ErrorItem]]]:
    """Pass rows on, reporting the file position every few thousand rows."""
    for count, item in enumerate(rows, start=1):
        if progress is not None and count % 5000 == 0:
            progress(_position(text))
        yield item
    if progress is not None:
        progress(_position(text))


def _position(text: IO[str]) -> int:
    buffer = getattr(text, "buffer", None)
    raw = getattr(buffer, "raw", buffer)
    try:
        return int(raw.tell()) if raw is not None else 0
    except (OSError, ValueError):
        return 0


def _code(value: str, name: str) -> int:
    options = OWNERSHIPS if name == "ownership" else SIZE_BANDS
    return options.index(value)
