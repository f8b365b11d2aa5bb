"""Measured region profiles: location quotients, per-capita ratios and the dataset they build.

Every profile value is in [0, 1]. A **strength** of region r in sector s is its revealed
specialisation against a reference group: from a ratio M (a location quotient
LQ = (E(r, s) / E(r)) / (E(ref, s) / E(ref)), or a per-capita figure over the reference's
per-capita figure) the value is the positive part of the symmetric LQ of Dalum, Laursen and
Villumsen (1998), ``max(0, (M - 1) / (M + 1))``. A **need** is the region's own deficit:
for sectors whose demand follows population, ``max(0, (1 - M) / (1 + M))`` with M the
per-capita supply over the reference per-capita supply.

`build_dataset_document` turns parsed source tables and the hand-written inputs
(``matching/data/profile_inputs.json``) into the dataset document ``regions.json``. It holds
no data of its own: which table feeds which sector (the *recipes*), the estimates with their
basis and range, the ties and the sources all come from the inputs.

Province/city rule
------------------
A recipe reads either province tables (provinces and the province-level municipalities
Beijing, Shanghai and Tianjin are measured directly) or city tables (the eight cities,
municipalities included, are measured directly). The other level is derived, never estimated
ad hoc:

* a city missing from a province table inherits its parent province's ratio M (and figures),
  marked ``derived`` with the rule in ``measure.rule``;
* a province missing from a city table gets M computed on the *pooled* figures of its cities
  in that table (``pooled_cities`` in the inputs: e.g. Liaoning from 沈阳 and 大连), marked
  ``derived``.

So a city and its province always carry the same indicator computed the same way, and a
measured value and its derived counterpart can be checked against each other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "TRANSFORMS",
    "build_dataset_document",
    "location_quotient",
    "need_from_ratio",
    "per_capita_ratio",
    "strength_from_ratio",
]

Row = Mapping[str, str]
Tables = Mapping[str, Sequence[Row]]

#: How a ratio M becomes a profile value, by name; the text is what the dataset records.
TRANSFORMS: dict[str, tuple[str, Callable[[float], float]]] = {}


def _positive_ratio(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number, got {value!r}")
    if value < 0:
        raise ValueError(f"`{name}` must be non-negative, got {value!r}")
    return float(value)


def strength_from_ratio(ratio: float) -> float:
    """The positive part of the symmetric ratio: ``max(0, (M - 1) / (M + 1))``.

    Parameters
    ----------
    ratio : float
        A location quotient or per-capita ratio M >= 0 (1 means "like the reference").

    Returns
    -------
    float
        A value in [0, 1): 0 at or below the reference, 1/3 at twice it, towards 1 as M grows.

    Examples
    --------
    >>> strength_from_ratio(3.0)
    0.5
    >>> strength_from_ratio(0.5)
    0.0
    >>> strength_from_ratio(-1)
    Traceback (most recent call last):
    ...
    ValueError: `ratio` must be non-negative, got -1
    """
    m = _positive_ratio("ratio", ratio)
    return max(0.0, (m - 1.0) / (m + 1.0))


def need_from_ratio(ratio: float) -> float:
    """The deficit side of the symmetric ratio: ``max(0, (1 - M) / (1 + M))``.

    Parameters
    ----------
    ratio : float
        Per-capita supply over the reference per-capita supply, M >= 0.

    Returns
    -------
    float
        A value in [0, 1]: 0 at or above the reference, 1 when the region supplies nothing.

    Examples
    --------
    >>> need_from_ratio(0.6)
    0.25
    >>> need_from_ratio(0.0)
    1.0
    >>> need_from_ratio(2.0)
    0.0
    """
    m = _positive_ratio("ratio", ratio)
    return max(0.0, (1.0 - m) / (1.0 + m))


def location_quotient(
    part: float, total: float, *, reference_part: float, reference_total: float
) -> float:
    """LQ = (part / total) / (reference_part / reference_total).

    Parameters
    ----------
    part, total : float
        The region's figure for the sector and its total (e.g. secondary value added and GDP).
    reference_part, reference_total : float, keyword-only
        The same figures for the reference group (the nation, or all regions of the table).

    Examples
    --------
    >>> location_quotient(30, 100, reference_part=250, reference_total=1000)
    1.2
    >>> location_quotient(1, 0, reference_part=1, reference_total=2)
    Traceback (most recent call last):
    ...
    ValueError: `total` must be positive, got 0
    """
    for name, value in (("total", total), ("reference_total", reference_total)):
        if _positive_ratio(name, value) == 0:
            raise ValueError(f"`{name}` must be positive, got {value!r}")
    _positive_ratio("part", part)
    if _positive_ratio("reference_part", reference_part) == 0:
        raise ValueError(f"`reference_part` must be positive, got {reference_part!r}")
    return (part / total) / (reference_part / reference_total)


def per_capita_ratio(
    supply: float, population: float, *, reference_supply: float, reference_population: float
) -> float:
    """Per-capita supply over the reference per-capita supply.

    Parameters
    ----------
    supply, population : float
        The region's output (e.g. grain, 10,000 t) and its population.
    reference_supply, reference_population : float, keyword-only
        The reference group's pooled output and population.

    Examples
    --------
    >>> round(per_capita_ratio(7416.13, 3799, reference_supply=17558.87,
    ...                        reference_population=37394), 3)
    4.157
    """
    return location_quotient(
        supply,
        population,
        reference_part=reference_supply,
        reference_total=reference_population,
    )


TRANSFORMS.update(
    {
        "strength": ("strength = max(0, (M - 1) / (M + 1))", strength_from_ratio),
        "need": ("need = max(0, (1 - M) / (1 + M))", need_from_ratio),
        "odds": ("value = M / (1 + M)", lambda m: _positive_ratio("ratio", m) / (1.0 + m)),
        "identity": ("value = M", lambda m: min(1.0, _positive_ratio("ratio", m))),
    }
)
MEAN_TRANSFORM = "value = mean of the figures"
RELATIVE_TRANSFORM = "value = gdp_per_capita_yuan / max_gdp_per_capita_yuan"


# --------------------------------------------------------------------------- tables


class _Lookup:
    """Values of every table by (table, place, year, indicator), with place names normalised."""

    def __init__(self, tables: Tables, specs: Mapping[str, Any], names: Mapping[str, str]):
        self.values: dict[tuple[str, str, int, str], float] = {}
        self.places: dict[str, set[str]] = {}
        self.specs = specs
        for table_name, spec in specs.items():
            if table_name not in tables:
                raise ValueError(f"`tables` has no table {table_name!r} (named in the inputs)")
            self._read(table_name, tables[table_name], spec, names)

    def _read(
        self,
        table_name: str,
        rows: Sequence[Row],
        spec: Mapping[str, Any],
        names: Mapping[str, str],
    ) -> None:
        aliases = spec.get("place_aliases", {})
        excluded = set(spec.get("exclude_places", []))
        place_col, year_col = spec["place_column"], spec.get("year_column")
        ind_col: str | None = spec.get("indicator_column")
        val_col: str = spec.get("value_column", "")
        places = self.places.setdefault(table_name, set())
        for row in rows:
            place = re.sub(r"\s+", "", row[place_col])
            place = aliases.get(place, place)
            if spec.get("place_names") == "zh":
                place = names.get(place, place)
            year = int(row[year_col]) if year_col else int(spec["year"])
            items = (
                [(row[ind_col], row[val_col])]
                if ind_col
                else [(k, v) for k, v in row.items() if k != place_col]
            )
            for indicator, raw in items:
                if raw is None or raw.strip() == "":
                    continue
                self.values[(table_name, place, year, indicator)] = float(raw)
            if place not in excluded:
                places.add(place)

    def get(self, table: str, place: str, year: int, indicator: str) -> float | None:
        return self.values.get((table, place, year, indicator))


# --------------------------------------------------------------------------- recipes


def _term(lookup: _Lookup, spec: Mapping[str, Any], place: str, year: int) -> float | None:
    """One numerator or denominator term of a recipe for one place (weighted if asked)."""
    y = int(spec.get("year", year))
    value = lookup.get(spec["table"], place, y, spec["indicator"])
    if value is None:
        return None
    if "weight" in spec:
        weight = lookup.get(spec["table"], place, y, spec["weight"])
        return None if weight is None else value * weight
    return value


def _sums(
    lookup: _Lookup, recipe: Mapping[str, Any], places: Sequence[str]
) -> dict[str, float] | None:
    """Pooled figures of `places` for every term of the recipe; None if any is missing."""
    year = int(recipe["year"])
    out: dict[str, float] = {}
    specs = [*recipe["numerators"], *([recipe["denominator"]] if recipe.get("denominator") else [])]
    weights = [s for s in recipe["numerators"] if "weight" in s]
    for spec in specs:
        total = 0.0
        for place in places:
            value = _term(lookup, spec, place, year)
            if value is None:
                return None
            total += value
        out[spec["label"]] = total
    for spec in weights:  # a weighted term is reported as its weighted mean (a rate)
        weight_total = 0.0
        for place in places:
            w = lookup.get(spec["table"], place, int(spec.get("year", year)), spec["weight"])
            assert w is not None  # _term returned a value for every place
            weight_total += w
        out[spec["label"]] /= weight_total
    return out


def _reference_places(lookup: _Lookup, recipe: Mapping[str, Any]) -> list[str]:
    specs = [*recipe["numerators"], *([recipe["denominator"]] if recipe.get("denominator") else [])]
    common = set.intersection(*(lookup.places[s["table"]] for s in specs))
    year = int(recipe["year"])
    return sorted(p for p in common if all(_term(lookup, s, p, year) is not None for s in specs))


def _ratio(
    recipe: Mapping[str, Any], figures: Mapping[str, float], ref: Mapping[str, float]
) -> float:
    """M from a place's figures and the reference's; several numerators are averaged."""
    den = recipe.get("denominator")
    ratios = []
    for spec in recipe["numerators"]:
        label = spec["label"]
        mine = figures[label] / (figures[den["label"]] if den else 1.0)
        if recipe.get("reference") is None:
            ratios.append(mine)
            continue
        theirs = ref[label] / (ref[den["label"]] if den else 1.0)
        ratios.append(mine / theirs)
    return sum(ratios) / len(ratios)


def _round(x: float, digits: int = 4) -> float:
    return float(round(x, digits))


class _Builder:
    def __init__(self, tables: Tables, inputs: Mapping[str, Any]) -> None:
        self.inputs = inputs
        names = {zh: en for en, zh in inputs.get("province_names", {}).items()}
        self.lookup = _Lookup(tables, inputs["tables"], names)
        self.regions = {r["id"]: r for r in inputs["regions"]}
        self.profiles: dict[str, dict[str, dict[str, Any]]] = {
            rid: {"factors": {}, "strengths": {}, "needs": {}} for rid in self.regions
        }
        self.indicators: dict[str, dict[str, Any]] = {rid: {} for rid in self.regions}

    # -- measured values
    def measure(self, recipe: Mapping[str, Any]) -> None:
        level = recipe["level"]
        ref: dict[str, float] = {}
        reference = recipe.get("reference")
        if reference == "pooled":
            pooled = _sums(self.lookup, recipe, _reference_places(self.lookup, recipe))
            assert pooled is not None
            ref = pooled
        elif isinstance(reference, Mapping):
            place_ref = _sums(self.lookup, recipe, [reference["place"]])
            if place_ref is None:
                raise ValueError(
                    f"recipe {recipe['id']!r}: no reference row {reference['place']!r}"
                )
            ref = place_ref
        results: dict[str, tuple[float, dict[str, float], str | None]] = {}
        for rid, region in self.regions.items():
            place = region["places"].get(level)
            figures = _sums(self.lookup, recipe, [place]) if place else None
            if figures is not None:
                results[rid] = (_ratio(recipe, figures, ref), figures, None)
        for rid, region in self.regions.items():
            if rid in results:
                continue
            if level == "province" and region.get("parent") in results:
                m, figures, _ = results[region["parent"]]
                rule: str | None = (
                    f"inherited from {region['parent']}: the table has provinces only, so a city "
                    "takes its province's ratio"
                )
                results[rid] = (m, figures, rule)
            elif level == "city" and region.get("pooled_cities"):
                cities = region["pooled_cities"]
                figures = _sums(self.lookup, recipe, cities)
                if figures is None:
                    raise ValueError(f"recipe {recipe['id']!r}: {rid}'s cities {cities} lack data")
                rule = (
                    f"pooled from the table's cities {', '.join(cities)}: the table has cities "
                    "only, so a province takes the ratio of its cities' summed figures"
                )
                results[rid] = (_ratio(recipe, figures, ref), figures, rule)
        for rid, (m, figures, rule) in results.items():
            self._emit(recipe, rid, m, figures, ref, rule)

    def _emit(
        self,
        recipe: Mapping[str, Any],
        rid: str,
        m: float,
        figures: Mapping[str, float],
        ref: Mapping[str, float],
        rule: str | None,
    ) -> None:
        all_figures = {k: _round(v) for k, v in figures.items()}
        all_figures.update({f"reference_{k}": _round(v) for k, v in ref.items()})
        den = recipe.get("denominator")
        place_text = f"{self.regions[rid]['name_en']} {recipe['year']}"
        for output in recipe["outputs"]:
            text, fn = TRANSFORMS[output["transform"]]
            value = round(fn(m), 3)
            if value <= 0:
                continue
            measure: dict[str, Any] = {
                "statistic": recipe["statistic"],
                "reference": recipe.get("reference_text", "none: the value is the share itself"),
                "ratio": _round(m),
                "transform": text,
                "year": int(recipe["year"]),
                "table": ", ".join(
                    sorted({self.inputs["tables"][s["table"]]["file"] for s in _specs(recipe)})
                ),
                "figures": all_figures,
            }
            if den:
                measure["denominator"] = den["label"]
            if rule:
                measure["rule"] = rule
            note = f"{place_text}: {recipe['statistic']} gives M = {m:.3g}"
            note += f" against {recipe['reference_text']}." if recipe.get("reference") else "."
            if recipe.get("note"):
                note += " " + recipe["note"]
            if rule:
                note += f" Derived: {rule}."
            self.profiles[rid][output["profile"]][output["key"]] = {
                "value": value,
                "kind": "derived" if rule else "measured",
                "source": recipe["source"],
                "note": note,
                "measure": measure,
            }

    # -- indicators
    def read_indicators(self) -> None:
        spec = self.inputs["indicators"]
        for name in ("gdp", "population"):
            item = spec[name]
            table = self.inputs["tables"][item["table"]]
            for rid, region in self.regions.items():
                place = region["places"].get(item["level"])
                value = (
                    self.lookup.get(item["table"], place, int(item["year"]), item["indicator"])
                    if place
                    else None
                )
                reported = spec["reported"].get(rid, {}).get(name)
                if value is not None:
                    note = item["note"]
                    extra = spec.get("notes", {}).get(rid, {}).get(name)
                    if extra:
                        note += " " + extra
                    self.indicators[rid][name] = {
                        "value": value,
                        "unit": item["unit"],
                        "year": int(item["year"]),
                        "source": table["source"],
                        "note": note,
                    }
                elif reported is not None:
                    self.indicators[rid][name] = dict(reported)
                else:
                    raise ValueError(f"`inputs`: no {name} for region {rid!r}")

    # -- values computed from other values of the dataset
    def derive(self, rule: Mapping[str, Any]) -> None:
        if rule["method"] == "relative_to_max":
            per_capita = {
                rid: ind["gdp"]["value"] * 1e8 / (ind["population"]["value"] * 1e4)
                for rid, ind in self.indicators.items()
            }
            top = max(per_capita.values())
            top_id = max(per_capita, key=per_capita.__getitem__)
            for rid, pc in per_capita.items():
                self._derived(
                    rule,
                    rid,
                    pc / top,
                    {
                        "gdp_per_capita_yuan": _round(pc, 1),
                        "max_gdp_per_capita_yuan": _round(top, 1),
                    },
                    RELATIVE_TRANSFORM,
                    f"GDP per resident {pc:,.0f} yuan over the highest of the dataset "
                    f"({top_id}, {top:,.0f} yuan).",
                )
            return
        if rule["method"] != "mean":
            raise ValueError(f"`inputs`: unknown derivation method {rule['method']!r}")
        source_profile, keys = rule["of"]["profile"], rule["of"]["keys"]
        for rid, region in self.regions.items():
            if rule.get("sides") and region["side"] not in rule["sides"]:
                continue
            values = {
                k: self.profiles[rid][source_profile].get(k, {}).get("value", 0.0) for k in keys
            }
            mean = sum(values.values()) / len(values)
            if round(mean, 3) <= 0 and rule["profile"] != "factors":
                continue
            listed = ", ".join(f"{k} {v:.3f}" for k, v in values.items())
            self._derived(
                rule, rid, mean, values, MEAN_TRANSFORM, f"Mean of its {source_profile} {listed}."
            )

    def _derived(
        self,
        rule: Mapping[str, Any],
        rid: str,
        value: float,
        figures: Mapping[str, float],
        transform: str,
        detail: str,
    ) -> None:
        if rule["key"] in self.profiles[rid][rule["profile"]]:
            raise ValueError(
                f"`inputs`: {rid}.{rule['profile']}.{rule['key']} is both derived and given"
            )
        self.profiles[rid][rule["profile"]][rule["key"]] = {
            "value": round(value, 3),
            "kind": "derived",
            "source": rule["source"],
            "note": f"{rule['note']} {detail}",
            "measure": {
                "statistic": rule["statistic"],
                "reference": rule["reference_text"],
                "ratio": _round(value),
                "transform": transform,
                "year": int(rule["year"]),
                "table": "regions.json",
                "figures": dict(figures),
            },
        }

    # -- estimates
    def estimate(self, item: Mapping[str, Any]) -> None:
        rid = item["region"]
        if rid not in self.regions:
            raise ValueError(f"`inputs`: estimate for unknown region {rid!r}")
        lo, hi = item["range"]
        if not lo <= item["value"] <= hi:
            raise ValueError(f"`inputs`: estimate {rid}.{item['key']} lies outside its range")
        table = self.profiles[rid][item["profile"]]
        if item["key"] in table:
            raise ValueError(
                f"`inputs`: {rid}.{item['profile']}.{item['key']} is both measured and estimated"
            )
        table[item["key"]] = {
            "value": item["value"],
            "kind": "estimate",
            "source": item["source"],
            "note": item["note"],
            "range": [lo, hi],
        }

    def document(self) -> dict[str, Any]:
        regions = []
        for rid, region in self.regions.items():
            prof = self.profiles[rid]
            regions.append(
                {
                    "id": rid,
                    "name_en": region["name_en"],
                    "name_zh": region["name_zh"],
                    "side": region["side"],
                    "level": region["level"],
                    "parent": region.get("parent"),
                    "counterparts": list(region.get("counterparts", [])),
                    "indicators": self.indicators[rid],
                    "factors": {k: prof["factors"][k] for k in self.inputs["factor_order"]},
                    "strengths": _ordered(prof["strengths"]),
                    "needs": _ordered(prof["needs"]),
                }
            )
        return {
            "version": self.inputs["version"],
            "title": self.inputs["title"],
            "description": self.inputs["description"],
            "adopted": self.inputs["adopted"],
            "sources": dict(self.inputs["sources"]),
            "regions": regions,
            "ties": [dict(t) for t in self.inputs["ties"]],
        }


def _specs(recipe: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [*recipe["numerators"], *([recipe["denominator"]] if recipe.get("denominator") else [])]


def _ordered(table: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Highest value first, then by id: the order a reader scans a profile in."""
    return {k: table[k] for k in sorted(table, key=lambda k: (-table[k]["value"], k))}


def build_dataset_document(tables: Tables, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Build the dataset document from parsed source tables and the hand-written inputs.

    Parameters
    ----------
    tables : mapping of str to sequence of mapping
        Rows of every source table (as `csv.DictReader` yields them), by the table names the
        inputs' ``tables`` section uses.
    inputs : mapping
        The parsed ``profile_inputs.json``: region metadata, the recipes that turn tables into
        values, values derived from other values, estimates with basis and range, ties and
        sources.

    Returns
    -------
    dict
        The dataset document (``regions.json``), ready for `matching.parse_dataset`.

    Raises
    ------
    ValueError
        Naming the parameter (`tables` or `inputs`) and what is wrong with it.

    Examples
    --------
    >>> build_dataset_document({}, {"tables": {"crops": {}}, "regions": []})
    Traceback (most recent call last):
    ...
    ValueError: `tables` has no table 'crops' (named in the inputs)
    """
    builder = _Builder(tables, inputs)
    builder.read_indicators()
    for recipe in inputs["measures"]:
        builder.measure(recipe)
    # Estimates come before derivations: a derived mean may read estimated strengths.
    for item in inputs["estimates"]:
        builder.estimate(item)
    for rule in inputs["derived"]:
        builder.derive(rule)
    return builder.document()
