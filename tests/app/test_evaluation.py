"""The effectiveness report over HTTP and on the command line: JSON, CSV, charts, calibration."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli

from .conftest import ADMIN_KEY, TestDatabases

KEY = {"Authorization": f"Bearer {ADMIN_KEY}"}


def test_the_report_of_the_published_outcomes(api: Any) -> None:
    report = api.get("/evaluation/report", first_year=2018, last_year=2019)
    assert report["years"] == [2018, 2019] and report["pair"] is None
    projects = next(i for i in report["indicators"] if i["indicator"] == "projects_signed")
    # Jilin-Zhejiang 89 and Shenyang-Beijing 208 (2018), Heilongjiang-Guangdong 290 (2019).
    assert projects["by_year"] == [297.0, 290.0] and projects["total"] == 587.0
    assert projects["by_channel"]["equipment"] == 587.0
    assert projects["by_channel"]["agriculture"] == 0.0
    league = [(row["northeast"], row["east"]) for row in report["league"]]
    assert league[0] == ("shenyang", "beijing") and len(league) == 4
    inactive = {(p["northeast"], p["east"]) for p in report["inactive"]}
    assert {("dalian", "shanghai"), ("changchun", "tianjin"), ("liaoning", "jiangsu")} <= inactive
    gaps = {g["northeast"]: g["channels"] for g in report["gaps"]}
    assert "agriculture" in gaps["shenyang"] and "equipment" not in gaps["shenyang"]


def test_a_pairs_report_with_its_targets(api: Any) -> None:
    for year, value in ((2024, 100), (2025, 10)):
        target = {"northeast": "harbin", "east": "shenzhen", "year": year,
                  "indicator": "projects_signed", "value": value}  # fmt: skip
        assert api.client.put("/targets", json=target, headers=KEY).status_code == 201
    report = api.get("/evaluation/report", northeast="harbin", east="shenzhen",
                     first_year=2019, last_year=2025)  # fmt: skip
    assert report["pair"] == {"northeast": "harbin", "east": "shenzhen"}
    attained = [(a["year"], a["actual"], a["ratio"], a["met"]) for a in report["attainment"]]
    assert attained == [(2024, 119.0, 1.19, True), (2025, 0.0, 0.0, False)]
    assert [row["rank"] for row in report["league"]] == [1]
    assert [g["northeast"] for g in report["gaps"]] == ["harbin"]


def test_the_report_as_csv_holds_the_same_numbers(api: Any) -> None:
    report = api.get("/evaluation/report", first_year=2017, last_year=2026)
    response = api.client.get("/evaluation/report", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    totals = {r["indicator"]: float(r["value"]) for r in rows if r["table"] == "total"}
    assert totals == {i["indicator"]: i["total"] for i in report["indicators"]}
    index = {(r["northeast"], r["east"]): float(r["value"]) for r in rows if r["table"] == "index"}
    assert index == {(p["northeast"], p["east"]): p["index"] for p in report["league"]}


@pytest.mark.parametrize("chart", ["trend", "channels", "league", "attainment"])
def test_charts_are_rendered_on_the_server(api: Any, chart: str) -> None:
    svg = api.client.get(f"/evaluation/charts/{chart}.svg", params={"first_year": 2018})
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    root = ElementTree.fromstring(svg.content)
    assert root.tag.endswith("svg")
    png = api.client.get(f"/evaluation/charts/{chart}.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    # The same report draws the same picture.
    assert (
        api.client.get(f"/evaluation/charts/{chart}.svg", params={"first_year": 2018}).content
        == svg.content
    )


def test_bad_report_requests_are_named(api: Any) -> None:
    error = api.fails("GET", "/evaluation/report", 422, "InvalidRequest",
                      params={"first_year": 2020, "last_year": 2019})  # fmt: skip
    assert "`last_year` must not be before `first_year`" in error["detail"]
    error = api.fails("GET", "/evaluation/report", 422, "InvalidRequest",
                      params={"northeast": "harbin"})  # fmt: skip
    assert "needs both `northeast` and `east`" in error["detail"]
    # A region named by a filter: 422 naming it (404 is for a path).
    error = api.fails("GET", "/evaluation/report", 422, "InvalidRequest",
                      params={"northeast": "harbin", "east": "atlantis"})  # fmt: skip
    assert error["errors"] == [{"field": "query.east", "error": "no region with id 'atlantis'"}]
    api.fails("GET", "/evaluation/report", 422, "InvalidRequest",
              params={"northeast": "shenzhen", "east": "harbin"})  # fmt: skip
    api.fails("GET", "/evaluation/charts/pie.svg", 422, "ValidationError")
    api.fails("GET", "/evaluation/charts/trend.gif", 422, "ValidationError")


def test_calibration_year_by_year(api: Any) -> None:
    found = api.get("/evaluation/calibration", first_year=2017, last_year=2026)
    years = {row["year"]: row for row in found["years"]}
    assert list(years) == list(range(2017, 2027))
    assert years[2017]["rho"] is None and years[2017]["active_pairs"] == 0
    assert years[2018]["active_pairs"] == 2 and years[2018]["pairs"] == 49
    assert -1 <= years[2019]["rho"] <= 1
    assert found["half_life_days"] == 730.0 and found["weights"]["equipment"] == 0.2
    reweighted = api.get("/evaluation/calibration", weights="cooperation_status:1")
    assert reweighted["weights"]["cooperation_status"] == 1.0


def test_the_command_writes_the_report_and_charts_to_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, databases: TestDatabases
) -> None:
    for name, value in databases.environment(tmp_path / "data").items():
        monkeypatch.setenv(name, value)
    from app.settings import get_settings

    get_settings.cache_clear()
    try:
        out = tmp_path / "report"
        result = CliRunner().invoke(
            cli, ["evaluation", "report", "--output", str(out), "--from", "2018", "--to", "2024"]
        )
        assert result.exit_code == 0, result.output
        names = sorted(p.name for p in out.iterdir())
        assert names == sorted(
            ["report.json", "report.csv"]
            + [
                f"{c}.{f}"
                for c in ("trend", "channels", "league", "attainment")
                for f in ("svg", "png")
            ]
        )
        assert '"first_year": 2018' in (out / "report.json").read_text()
        failed = CliRunner().invoke(
            cli, ["evaluation", "report", "--output", str(out), "--northeast", "harbin"]
        )
        assert failed.exit_code == 1 and "needs both" in failed.output
        header = "northeast,east,indicator,value,date,channels,source\n"
        bad = tmp_path / "bad.csv"
        bad.write_text(header + "harbin,beijing,projects_signed,1,2020-01-01,equipment,x\n"
                       "harbin,atlantis,projects_signed,1,2020-01-01,equipment,x\n")  # fmt: skip
        failed = CliRunner().invoke(cli, ["evaluation", "import", str(bad)])
        assert (
            failed.exit_code == 1 and "row 3: east: no region with id 'atlantis'" in failed.output
        )
        good = tmp_path / "good.csv"
        good.write_text(header + "harbin,beijing,projects_signed,7,2021-05-01,equipment,x\n")
        done = CliRunner().invoke(cli, ["evaluation", "import", str(good)])
        assert done.exit_code == 0 and "imported 1 outcomes" in done.output
        again = CliRunner().invoke(
            cli, ["evaluation", "report", "--output", str(out), "--from", "2021", "--to", "2021"]
        )
        assert again.exit_code == 0 and "(1 outcomes)" in again.output
    finally:
        get_settings.cache_clear()
