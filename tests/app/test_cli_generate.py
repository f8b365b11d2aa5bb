"""`counterpart generate enterprises`: the generator's records, in the chosen file format."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources

import pytest
from typer.testing import CliRunner

from app.cli.generate import generate_cli
from app.enterprise_files import write_csv, write_jsonl
from matching import generate_enterprises, load_dataset
from schemas.enterprises import EnterpriseIn


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(generate_cli, ["enterprises", *map(str, args)])

    return invoke


def expected_text(write, count, seed):
    out = io.StringIO(newline="")
    write(generate_enterprises(load_dataset(), count, seed=seed), out)
    return out.getvalue()


def test_writes_csv_to_stdout_by_default(run):
    result = run("--count", 40, "--seed", 5)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected_text(write_csv, 40, 5)
    assert "wrote 40 enterprises as csv to stdout" in result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert len(rows) == 40


@pytest.mark.parametrize(
    ("name", "options", "kind"),
    [
        ("out.jsonl", [], "jsonl"),
        ("out.ndjson", [], "jsonl"),
        ("out.csv", [], "csv"),
        ("out.txt", [], "csv"),
        ("out.csv", ["--format", "jsonl"], "jsonl"),
        ("out.jsonl", ["--format", "csv"], "csv"),
    ],
)
def test_format_follows_the_option_then_the_extension(run, tmp_path, name, options, kind):
    path = tmp_path / name
    result = run("--count", 30, "--seed", 2, "--output", path, *options)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote 30 enterprises as {kind} to {path}" in result.stderr
    write = write_jsonl if kind == "jsonl" else write_csv
    assert path.read_text("utf-8") == expected_text(write, 30, 2)


def test_the_file_imports_as_valid_profiles(run, tmp_path):
    path = tmp_path / "population.jsonl"
    assert run("--count", 300, "--output", path).exit_code == 0
    lines = path.read_text("utf-8").splitlines()
    assert len(lines) == 300
    for line in lines:
        EnterpriseIn.model_validate(json.loads(line))


def test_count_zero_writes_only_the_header(run):
    result = run("--count", 0)
    assert result.exit_code == 0
    assert (
        result.stdout
        == "id,name,region,offers,seeks,size,ownership,founded,description,contact,partners\n"
    )


def test_a_dataset_file_is_used(run, tmp_path):
    document = json.loads(
        resources.files("matching").joinpath("data/regions.json").read_text("utf-8")
    )
    for region in document["regions"]:
        if region["id"] == "jiangsu":
            region["name_en"] = "Sujiang"
    path = tmp_path / "regions.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run("--count", 200, "--dataset", path)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert any(row["name"].startswith("Sujiang ") for row in rows if row["region"] == "jiangsu")


def test_a_bad_dataset_is_reported(run, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    result = run("--dataset", bad)
    assert result.exit_code == 1
    assert "invalid dataset" in result.stderr and "not valid JSON" in result.stderr
    result = run("--dataset", tmp_path / "missing.json")
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_negative_count_is_a_usage_error(run):
    result = run("--count", -1)
    assert result.exit_code == 2
    assert "--count" in result.stderr
