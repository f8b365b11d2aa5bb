"""`counterpart batch partners`: on local processes, and on a Dask cluster (`--scheduler`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from app.cli import cli
from app.enterprise_files import write_csv
from app.services.synthetic import synthetic_enterprises
from app.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent.parent
#: A generated population: about 1,000 northeast enterprises against 5,000 eastern ones.
POPULATION = 6_000

Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """The command line on a database of its own, holding a generated population."""
    monkeypatch.setenv("COUNTERPART_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: object) -> Result:
        return runner.invoke(cli, [str(arg) for arg in args], env={"COLUMNS": "240"})

    population = tmp_path / "population.csv"
    with open(population, "w", newline="", encoding="utf-8") as out:
        write_csv(synthetic_enterprises(POPULATION, seed=5), out)
    imported = invoke("import", "enterprises", population)
    assert imported.exit_code == 0, imported.output
    try:
        yield invoke
    finally:
        get_settings.cache_clear()


def test_a_cluster_of_two_processes_writes_the_same_bytes_as_one_local_process(
    run: Run, tmp_path: Path
) -> None:
    from distributed import LocalCluster

    single = tmp_path / "single.csv"
    done = run("batch", "partners", "--k", 7, "--workers", 1, "--output", single)
    assert done.exit_code == 0, done.output
    lines = single.read_text("utf-8").splitlines()
    assert lines[0] == "enterprise,rank,partner,score"
    enterprises = {line.split(",")[0] for line in lines[1:]}
    assert 800 < len(enterprises) < 1_200 and len(lines) > 5 * len(enterprises)
    assert all(line.startswith("ne") for line in lines[1:])

    clustered = tmp_path / "cluster.csv"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        # Parts of 37 enterprises: about 30 tasks, which finish out of order on two workers.
        done = run(
            "batch", "partners", "--k", 7, "--output", clustered,
            "--scheduler", cluster.scheduler_address, "--partition", 37,
        )  # fmt: skip
        assert done.exit_code == 0, done.output
    assert f"{len(enterprises):,} enterprises, top 7 partners each" in done.output
    # A LocalCluster's workers have dask's default environment.
    assert "warning: 2 of 2 workers run with MALLOC_TRIM_THRESHOLD_ set" in done.output
    assert clustered.read_bytes() == single.read_bytes()
    assert not clustered.with_name("cluster.csv.partial").exists()


def test_an_unreachable_scheduler_fails_in_one_line_and_writes_nothing(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import batch_cluster

    monkeypatch.setattr(batch_cluster, "CONNECT_TIMEOUT", 2.0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    output = tmp_path / "partners.csv"
    failed = run("batch", "partners", "--output", output, "--scheduler", address)
    assert failed.exit_code == 1
    assert f"error: cannot reach the Dask scheduler at {address}" in failed.output
    assert list(tmp_path.glob("partners.csv*")) == []


def test_a_scheduler_without_dask_installed_says_what_to_install(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if dask were not installed: importing it fails, and the cluster module is not loaded yet.
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.delitem(sys.modules, "app.services.batch_cluster", raising=False)
    output = tmp_path / "partners.csv"
    failed = run("batch", "partners", "--output", output, "--scheduler", "tcp://127.0.0.1:8786")
    assert failed.exit_code == 1
    assert "error: --scheduler needs dask: pip install 'counterpart[dask]'" in failed.output
    assert list(tmp_path.glob("partners.csv*")) == []


def test_workers_and_a_scheduler_together_are_refused(run: Run, tmp_path: Path) -> None:
    refused = run(
        "batch", "partners", "--workers", 2, "--scheduler", "tcp://127.0.0.1:8786",
        "--output", tmp_path / "partners.csv",
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "with --scheduler the cluster's workers run the batch" in refused.output


def test_a_local_batch_does_not_import_dask(run: Run, tmp_path: Path) -> None:
    output = tmp_path / "partners.csv"
    script = (
        "import sys\n"
        "from app.cli import cli\n"
        "try:\n"
        f"    cli(['batch', 'partners', '--workers', '1', '--output', {str(output)!r}])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print('loaded:', loaded)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert "loaded: []" in done.stdout, done.stdout + done.stderr
    assert output.read_text("utf-8").startswith("enterprise,rank,partner,score\n")
