"""Every input check of the engine, in one place (in the spirit of scipy's ``_milp_iv``).

Each check raises `ValueError` with the parameter's name and what was wrong, one sentence a
caller can show as it is: "`capacity` must be a non-negative integer, got -1". The ``*_problem``
functions return that sentence without the name (or None), for readers that report problems in
a form of their own (`matching._records` names the file, record and field).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

__all__ = [
    "check_array",
    "check_choice",
    "check_count",
    "check_number",
    "check_unit",
    "count_problem",
    "number_problem",
]


def count_problem(value: Any, *, minimum: int = 0) -> str | None:
    """What is wrong with `value` as an integer count of at least `minimum` (0 or 1), or None.

    Booleans are not counts, nor are floats with an integral value: ``2.0`` is refused.

    Examples
    --------
    >>> count_problem(3), count_problem(0, minimum=1), count_problem(True)
    (None, 'must be a positive integer, got 0', 'must be a non-negative integer, got True')
    """
    integer = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    if integer and value >= minimum:
        return None
    kind = (
        "a positive"
        if minimum == 1
        else "a non-negative"
        if minimum == 0
        else f">= {minimum} as an"
    )
    return f"must be {kind} integer, got {value!r}"


def check_count(name: str, value: Any, *, minimum: int = 0) -> int:
    """`value` as an int, if it is an integer count of at least `minimum`.

    Examples
    --------
    >>> check_count("capacity", 2)
    2
    >>> check_count("capacity", -1)
    Traceback (most recent call last):
    ...
    ValueError: `capacity` must be a non-negative integer, got -1
    """
    problem = count_problem(value, minimum=minimum)
    if problem is not None:
        raise ValueError(f"`{name}` {problem}")
    return int(value)


def number_problem(
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> str | None:
    """What is wrong with `value` as a finite number within bounds, or None.

    Examples
    --------
    >>> number_problem(0.5, minimum=0, maximum=1) is None
    True
    >>> number_problem(1.5, minimum=0, maximum=1)
    'must be in [0, 1], got 1.5'
    >>> number_problem(0, minimum=0, exclusive_minimum=True)
    'must be > 0, got 0'
    >>> number_problem("1")
    "must be a number, got '1'"
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return f"must be a number, got {value!r}"
    number = float(value)
    if not math.isfinite(number):
        return f"must be finite, got {value!r}"
    too_low = minimum is not None and (number <= minimum if exclusive_minimum else number < minimum)
    too_high = maximum is not None and number > maximum
    if not (too_low or too_high):
        return None
    if minimum is not None and maximum is not None:
        opening = "(" if exclusive_minimum else "["
        return f"must be in {opening}{minimum:g}, {maximum:g}], got {value!r}"
    if too_low:
        return f"must be {'>' if exclusive_minimum else '>='} {minimum:g}, got {value!r}"
    return f"must be <= {maximum:g}, got {value!r}"


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float:
    """`value` as a float, if it is a finite number within bounds.

    Examples
    --------
    >>> check_number("min_score", float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: `min_score` must be finite, got nan
    """
    problem = number_problem(
        value, minimum=minimum, maximum=maximum, exclusive_minimum=exclusive_minimum
    )
    if problem is not None:
        raise ValueError(f"`{name}` {problem}")
    return float(value)


def check_unit(name: str, value: Any) -> float:
    """`value` as a float, if it is a number in [0, 1] (a profile value)."""
    return check_number(name, value, minimum=0.0, maximum=1.0)


def check_choice(name: str, value: Any, options: Collection[str] | Mapping[str, Any]) -> str:
    """`value`, if it is one of `options`.

    Examples
    --------
    >>> check_choice("level", "county", ("province", "city"))
    Traceback (most recent call last):
    ...
    ValueError: `level` must be one of ['city', 'province'], got 'county'
    """
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"`{name}` must be one of {sorted(options)}, got {value!r}")
    return value


def check_array(
    name: str, value: Any, *, dtypes: tuple[Any, ...], shape: tuple[int, ...] | None = None
) -> np.ndarray[Any, Any]:
    """`value`, if it is an array of one of `dtypes` (a kind such as ``"S"`` too) and `shape`.

    No conversion and no copy: arrays read from files are taken as they are or refused.

    Examples
    --------
    >>> check_array("region", np.zeros(3, dtype=np.int32), dtypes=(np.int64,), shape=(3,))
    Traceback (most recent call last):
    ...
    ValueError: `region` must be an array of int64, got int32 of shape (3,)
    >>> check_array("region", np.zeros(2, dtype=np.int64), dtypes=(np.int64,), shape=(3,))
    Traceback (most recent call last):
    ...
    ValueError: `region` must be an array of shape (3,), got (2,)
    """
    kinds = [d if isinstance(d, str) else np.dtype(d) for d in dtypes]
    if not isinstance(value, np.ndarray) or not any(
        value.dtype.kind == k if isinstance(k, str) else value.dtype == k for k in kinds
    ):
        found = (
            f"{value.dtype} of shape {value.shape}"
            if isinstance(value, np.ndarray)
            else type(value).__name__
        )
        wanted = " or ".join(f"kind {k!r}" if isinstance(k, str) else str(k) for k in kinds)
        raise ValueError(f"`{name}` must be an array of {wanted}, got {found}")
    if shape is not None and value.shape != shape:
        raise ValueError(f"`{name}` must be an array of shape {shape}, got {value.shape}")
    return value
