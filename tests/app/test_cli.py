"""The command line: `counterpart what-if` and `counterpart dataset validate`."""

from __future__ import annotations

import copy
import json
import math
from importlib import resources

import pytest
from typer.testing import CliRunner

from app.cli import cli
from schemas.scenarios import ScenarioOut

from .conftest import SHIPPED_VERSION

SCENARIO = {"weights": {"channels": {"innovation": 0.5}}, "capacity": 1}
SWEEP_VALUES = [0.0, 0.2, 0.4, 0.6]


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def pair_set(items):
    return {(item["northeast"], item["east"]) for item in items}


def table_rows(text):
    """The cells of each body row of the tables in `text` (rows that wrap give several lines)."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def shipped_document():
    return json.loads(resources.files("matching").joinpath("data/regions.json").read_text("utf-8"))


def write_json(path, value):
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


@pytest.fixture
def run():
    """Run the command line; a wide terminal keeps each table row on one line."""
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(arg) for arg in args], env={"COLUMNS": "240"})

    return invoke


@pytest.fixture
def scenario_file(tmp_path):
    return write_json(tmp_path / "scenario.json", SCENARIO)


@pytest.fixture
def broken_dataset(tmp_path):
    """A copy of the shipped dataset with one of harbin's strengths at 1.5."""
    document = shipped_document()
    harbin = next(r for r in document["regions"] if r["id"] == "harbin")
    sector = next(iter(harbin["strengths"]))
    harbin["strengths"][sector]["value"] = 1.5
    return write_json(tmp_path / "broken.json", document), sector


def test_what_if_prints_the_dataset_the_objective_the_plan_and_the_sensitivity(run, scenario_file):
    result = ScenarioOut.model_validate_json(run("what-if", scenario_file, "--json").stdout)

    printed = run("what-if", scenario_file)

    assert printed.exit_code == 0, printed.output
    first = printed.stdout.splitlines()[0]
    assert SHIPPED_VERSION in first and "objective" in first
    assert f"{result.diff.baseline_objective:.4f}" in first
    assert f"{result.diff.scenario_objective:.4f}" in first
    rows = table_rows(printed.stdout)
    assert result.plan.pairs and result.diff.entered
    for pair in result.plan.pairs:
        assert [pair.northeast, pair.east, f"{pair.score:.4f}"] in [row[:3] for row in rows]
    entered = next(line for line in printed.stdout.splitlines() if line.startswith("entered"))
    for pair in result.diff.entered:
        assert f"{pair.northeast}–{pair.east}" in entered
    assert len(result.sensitivity) == 11
    for interval in result.sensitivity:
        upper = "∞" if interval.upper is None else f"{interval.upper:.6f}"
        assert [interval.component, f"{interval.weight:g}", f"[{interval.lower:.6f}, {upper}]"] in [
            row[:3] for row in rows
        ]


def test_what_if_json_is_what_the_api_answers(run, scenario_file, api):
    printed = run("what-if", scenario_file, "--json")

    assert printed.exit_code == 0, printed.output
    result = ScenarioOut.model_validate_json(printed.stdout)
    answer = api.post("/scenarios/evaluate", SCENARIO)
    assert result.dataset_version == answer["dataset_version"] == SHIPPED_VERSION
    assert [(p.northeast, p.east) for p in result.plan.pairs] == [
        (p["northeast"], p["east"]) for p in answer["plan"]["pairs"]
    ]
    assert close(result.plan.objective, answer["plan"]["objective"])
    assert result.diff.model_dump() == answer["diff"]
    assert [(s.component, s.lower, s.upper) for s in result.sensitivity] == [
        (s["component"], s["lower"], s["upper"]) for s in answer["sensitivity"]
    ]
    assert json.loads(printed.stdout) == answer


def test_a_sweep_prints_one_row_per_value(run, scenario_file):
    printed = run("what-if", scenario_file, "--sweep", "agriculture=0:0.6:0.2")

    assert printed.exit_code == 0, printed.output
    values = [row[0] for row in table_rows(printed.stdout) if row[0]]
    assert values == ["0", "0.2", "0.4", "0.6"]


def test_a_sweep_as_json_gives_the_plan_at_each_value(run, scenario_file, api):
    printed = run("what-if", scenario_file, "--sweep", "agriculture=0:0.6:0.2", "--json")

    assert printed.exit_code == 0, printed.output
    rows = json.loads(printed.stdout)
    assert [row["value"] for row in rows] == SWEEP_VALUES
    baseline = pair_set(api.post("/plans", {"capacity": 1})["pairs"])
    for row in rows:
        channels = {**SCENARIO["weights"]["channels"], "agriculture": row["value"]}
        plan = api.post("/plans", {**SCENARIO, "weights": {"channels": channels}})
        pairs = pair_set(plan["pairs"])
        assert close(row["objective"], plan["objective"])
        assert row["pairs"] == len(pairs)
        assert pair_set(row["entered"]) == pairs - baseline
        assert pair_set(row["left"]) == baseline - pairs
    assert len({round(row["objective"], 9) for row in rows}) == len(rows)
    assert any(row["entered"] for row in rows)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param(
            ["{scenario}", "--sweep", "mining=0:1:0.5"], ["mining"], id="sweep-unknown-component"
        ),
        pytest.param(
            ["{scenario}", "--sweep", "agriculture=0:1"], ["agriculture=0:1"], id="sweep-two-parts"
        ),
        pytest.param(
            ["{scenario}", "--sweep", "agriculture=a:1:0.5"],
            ["agriculture=a:1:0.5"],
            id="sweep-not-a-number",
        ),
        pytest.param(
            ["{scenario}", "--sweep", "agriculture=1:0:0.5"],
            ["agriculture=1:0:0.5"],
            id="sweep-backwards",
        ),
        pytest.param(
            ["{scenario}", "--sweep", "agriculture=nan:1:0.5"],
            ["agriculture=nan:1:0.5"],
            id="sweep-nan",
        ),
        pytest.param(
            ["{unknown_region}"], ["overrides[0].region", "atlantis"], id="unknown-region"
        ),
        pytest.param(["{pinned_tie}"], ["harbin", "shenzhen"], id="pinned-existing-tie"),
        pytest.param(["{not_json}"], ["not-json.json"], id="not-json"),
        pytest.param(["{missing}"], ["missing.json"], id="missing-file"),
        pytest.param(
            ["{scenario}", "--dataset", "{broken}"],
            ["dataset", "region[harbin]", "strengths.{sector}"],
            id="invalid-dataset",
        ),
        pytest.param(
            ["{scenario}", "--dataset", "{missing}"], ["missing.json"], id="missing-dataset"
        ),
        pytest.param(
            ["{utf16}"],
            ["utf16.json"],
            id="scenario-not-utf8",
        ),
        pytest.param(
            ["{scenario}", "--dataset", "{utf16}"],
            ["utf16.json"],
            id="dataset-not-utf8",
        ),
    ],
)
def test_what_if_errors_exit_1_with_a_one_line_message(
    run, tmp_path, scenario_file, broken_dataset, args, named
):
    broken, sector = broken_dataset
    (tmp_path / "not-json.json").write_text("capacity: 1\n", encoding="utf-8")
    (tmp_path / "utf16.json").write_text(json.dumps(SCENARIO), encoding="utf-16")
    paths = {
        "scenario": scenario_file,
        "unknown_region": write_json(
            tmp_path / "unknown.json",
            {"overrides": [{"region": "atlantis", "sector": "grain", "strength": 1.0}]},
        ),
        "pinned_tie": write_json(tmp_path / "tie.json", {"pinned": [["harbin", "shenzhen"]]}),
        "not_json": tmp_path / "not-json.json",
        "missing": tmp_path / "missing.json",
        "broken": broken,
        "utf16": tmp_path / "utf16.json",
        "sector": sector,
    }

    printed = run("what-if", *(arg.format(**paths) for arg in args))

    assert printed.exit_code == 1, printed.output
    assert isinstance(printed.exception, SystemExit), printed.exception
    assert printed.stdout == ""
    lines = printed.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), printed.stderr
    for word in named:
        assert word.format(**paths) in lines[0]


def test_dataset_validate_accepts_the_shipped_dataset(run):
    path = resources.files("matching").joinpath("data/regions.json")

    printed = run("dataset", "validate", path)

    assert printed.exit_code == 0, printed.output
    assert printed.stdout.startswith("valid")
    assert SHIPPED_VERSION in printed.stdout and "14 regions" in printed.stdout


def break_strength(document):
    harbin = next(r for r in document["regions"] if r["id"] == "harbin")
    harbin["strengths"][next(iter(harbin["strengths"]))]["value"] = 1.5
    return "region[harbin]", "strengths."


def break_need(document):
    dalian = next(r for r in document["regions"] if r["id"] == "dalian")
    dalian["needs"]["unobtainium"] = {"value": 0.5, "source": "estimate"}
    return "region[dalian]", "needs.unobtainium"


def break_factor(document):
    dalian = next(r for r in document["regions"] if r["id"] == "dalian")
    del dalian["factors"]["industrial_base"]
    return "region[dalian]", "factors.industrial_base"


def break_tie(document):
    document["ties"][0]["east"] = "atlantis"
    return "ties[0]", "east"


@pytest.mark.parametrize("breakage", [break_strength, break_need, break_factor, break_tie])
def test_dataset_validate_names_the_record_and_field_of_a_broken_copy(run, tmp_path, breakage):
    document = copy.deepcopy(shipped_document())
    record, field = breakage(document)
    path = write_json(tmp_path / "broken.json", document)

    printed = run("dataset", "validate", path)

    assert printed.exit_code == 1, printed.output
    assert printed.stdout == ""
    lines = printed.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("invalid: "), printed.stderr
    assert record in lines[0] and field in lines[0]


def test_dataset_validate_reports_a_file_that_is_not_utf8_in_one_line(run, tmp_path):
    path = tmp_path / "utf16.json"
    path.write_text(json.dumps(shipped_document()), encoding="utf-16")

    printed = run("dataset", "validate", path)

    assert printed.exit_code in (1, 2), printed.output
    assert isinstance(printed.exception, SystemExit), printed.exception
    assert len(printed.stderr.splitlines()) == 1, printed.stderr


# The dataset's build and its stability.


def test_dataset_build_check_passes_on_the_shipped_file_and_fails_on_another(run, tmp_path):
    checked = run("dataset", "build", "--check")
    assert checked.exit_code == 0, checked.output
    assert "up to date" in checked.output

    other = tmp_path / "regions.json"
    other.write_text("{}\n", "utf-8")
    stale = run("dataset", "build", "--check", "--output", other)
    assert stale.exit_code == 1
    assert "differs from the build" in stale.output

    built = run("dataset", "build", "--output", other)
    assert built.exit_code == 0, built.output
    assert json.loads(other.read_text("utf-8")) == shipped_document()
    assert run("dataset", "build", "--check", "--output", other).exit_code == 0


def test_dataset_stability_prints_a_row_per_region_with_shares(run):
    printed = run("dataset", "stability", "--draws", "20", "--k", "2")

    assert printed.exit_code == 0, printed.output
    rows = [line.split("|")[1:-1] for line in printed.stdout.splitlines()[2:]]
    regions = [r["id"] for r in shipped_document()["regions"]]
    assert [row[0].strip() for row in rows] == regions
    for row in rows:
        assert len(row[1].split(",")) <= 2
        assert all(cell.strip().endswith("%") for cell in row[2:])
