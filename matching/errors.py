"""The engine's named exceptions: what a caller can expect to catch, and why it happened.

Every input check raises `ValueError` naming the parameter (see `matching._validate`); these are
the outcomes that deserve a name of their own.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DatasetError", "InfeasiblePlanError", "UnknownRegionError"]


class DatasetError(ValueError):
    """A taxonomy or dataset document is invalid.

    Attributes
    ----------
    origin, record, field, problem : str
        Where the problem is (the file, the record in it, the field of the record) and what it is.
    """

    def __init__(self, origin: str, record: str, field: str, problem: str) -> None:
        self.origin = origin
        self.record = record
        self.field = field
        self.problem = problem
        where = f"{origin}: {record}" + (f": {field}" if field else "")
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[type[DatasetError], tuple[str, str, str, str]]:
        # Picklable with its parts (work runs in other processes): the default would pass only
        # the message back to __init__.
        return type(self), (self.origin, self.record, self.field, self.problem)


class UnknownRegionError(KeyError):
    """No region with this id in the network.

    A `KeyError`, so that code looking a region up as in a mapping can catch it as one.

    Attributes
    ----------
    region_id : str
        The id that was looked up.
    field : str or None
        The parameter that named it (``"capacities"``, ``"overrides[2].region"``), or None when
        the region was asked for directly.

    Examples
    --------
    >>> str(UnknownRegionError("atlantis"))
    "no region with id 'atlantis'"
    >>> str(UnknownRegionError("atlantis", field="capacities"))
    "`capacities`: no region with id 'atlantis'"
    """

    def __init__(self, region_id: str, *, field: str | None = None) -> None:
        self.region_id = region_id
        self.field = field
        super().__init__(region_id)

    def __str__(self) -> str:
        where = f"`{self.field}`: " if self.field else ""
        return f"{where}no region with id {self.region_id!r}"

    def __reduce__(self) -> tuple[object, ...]:
        return _unknown_region, (self.region_id, self.field)


class InfeasiblePlanError(ValueError):
    """The plan's constraints contradict each other; `conflicts` names each contradiction."""

    def __init__(self, conflicts: Sequence[str]) -> None:
        self.conflicts = tuple(conflicts)
        super().__init__("; ".join(self.conflicts))

    def __reduce__(self) -> tuple[type[InfeasiblePlanError], tuple[tuple[str, ...]]]:
        return type(self), (self.conflicts,)


def _unknown_region(region_id: str, field: str | None) -> UnknownRegionError:
    return UnknownRegionError(region_id, field=field)
