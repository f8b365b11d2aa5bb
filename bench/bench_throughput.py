"""Benchmark: partner queries and mixed load over HTTP, 2 workers, this tree beside a baseline.

Run with ``.venv/bin/python bench/bench_throughput.py`` (1,200,000 enterprises and both databases:
about twenty minutes; ``--count`` for a smaller population, ``--database`` for one database). A
synthetic population is imported by each tree's own ``counterpart import enterprises`` into a
database of its own (the trees' schemas may differ); then the baseline commit (``--baseline``,
extracted with ``git archive``) and this tree are served in turn, each on its own copy of the same
data, by ``counterpart serve --workers 2`` (JSON logs to a file, as in production), and
each is measured with wrk on loopback:

* partner queries: GET /enterprises/{id}/partners?k=10 over 2,000 northeast ids, 16 connections:
  requests/s, p50 and p99, errors, and the share of partner cards the workers had kept (each id
  is asked several times in a run, so most are: of 2,000 distinct queries' first answers, 35% of
  the partner cards had been read for an earlier query), and the share of queries read outside a
  transaction (the worker's index current; `counterpart_partner_reads_total`);
* mixed load: 80 connections (one wrk thread each) for 60 s, every tenth request of a connection a
  PATCH of a profile (a new `offers` and a `description` carrying a counter), the others partner
  queries. By default the connections start at staggered points of that cycle, eight at each, as
  independent clients would; with ``--updates aligned`` all start at the same point, so that the 80
  updates arrive together once a cycle (about every second), each burst queueing every query behind
  it (the schedule of the figures before 2026-12-04). Reported: requests/s, p50 and p99 of all,
  errors (non-2xx and socket errors), the share of partner queries read outside a transaction. Each
  connection owns the enterprises it updates and one update of its is in flight at a time, so it
  knows the last value acknowledged for each: after the run every one is read back (GET), and a
  stored value older than the acknowledged one is a lost update. A partner query of each updated
  enterprise is then checked against a search for its stored profile typed in (POST
  /partners/search): they differ if the index the query ran on had not caught up with the last
  update.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
from measure import cpu_model, extract, free_port, server_cpu, settle
from sqlalchemy import create_engine, text

import matching as m
from app.enterprise_files import write_csv
from matching import generate_enterprises

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
#: The service before the throughput work of issue 11.
BASELINE_REF = "d3a4643"
ADMIN_KEY = "bench-throughput-admin-key-0123456789"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_DATABASE = "tp_bench"
#: Enterprises each mixed-load connection owns and updates.
OWNED = 5
#: A connection's every UPDATE_EVERY-th request is a profile update.
UPDATE_EVERY = 10

CLI = "import sys; from app.cli import cli; sys.argv[0] = 'counterpart'; cli()"


def counterpart(
    source: Path, env: dict[str, str], *args: str, **kwargs: object
) -> subprocess.Popen[bytes]:
    """`counterpart ARGS` run from the source tree `source`."""
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *args],
        cwd=source,
        env={**env, "PYTHONPATH": str(source)},
        **kwargs,  # type: ignore[call-overload]
    )


def wait_ready(client: httpx.Client, process: subprocess.Popen[bytes]) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError("the service exited before it was ready")
        try:
            client.get("/health", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.2)


def lua_list(values: list[str]) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


PARTNERS_LUA = """
ids = %(ids)s
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/enterprises/" .. ids[(counter %% #ids) + 1] .. "/partners?k=10")
end
"""

MIXED_LUA = """
ids = %(ids)s
owned_all = %(owned)s
sectors = %(sectors)s
run = "%(run)s"
threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function init(args)
  -- Where in its cycle of %(every)d requests the connection starts (`--updates`).
  counter = %(phase)s
  updates = 0
  errors = 0
  pending = nil
  acked = {}
  sent = {}
  owned = {}
  for i = 1, %(per)d do owned[i] = owned_all[tid * %(per)d + i] end
end

request = function()
  counter = counter + 1
  if counter %% %(every)d == 0 then
    updates = updates + 1
    local e = owned[(updates %% #owned) + 1]
    local sector = sectors[(updates + tid) %% #sectors + 1]
    local value = (updates %% 9 + 1) / 10
    pending = {e, updates}
    sent[e] = updates
    local body = '{"description":"' .. run .. '-' .. tid .. '-' .. updates ..
      '","offers":{"' .. sector .. '":' .. value .. '}}'
    return wrk.format("PATCH", "/enterprises/" .. e, {
      ["Authorization"] = "Bearer %(key)s", ["Content-Type"] = "application/json"}, body)
  end
  pending = nil
  return wrk.format("GET", "/enterprises/" .. ids[((counter + tid * 97) %% #ids) + 1] ..
    "/partners?k=10")
end

response = function(status, headers, body)
  if status < 200 or status > 299 then
    errors = errors + 1
  elseif pending ~= nil then
    acked[pending[1]] = pending[2]
  end
  pending = nil
end

done = function(summary, latency, requests)
  local out = io.open("%(result)s", "w")
  local non2xx = 0
  for _, thread in ipairs(threads) do
    non2xx = non2xx + thread:get("errors")
    local a = thread:get("acked")
    local s = thread:get("sent")
    local tid = thread:get("tid")
    for e, n in pairs(s) do
      out:write("update ", tid, " ", e, " ", a[e] or 0, " ", n, "\\n")
    end
  end
  out:write("non2xx ", non2xx, "\\n")
  out:close()
end
"""


def run_wrk(
    base: str, script: str, path: Path, *, threads: int, connections: int, seconds: int
) -> dict[str, float]:
    """Run wrk with a Lua script; its figures: requests/s, p50 and p99 (ms), errors."""
    lua = path / "load.lua"
    lua.write_text(script)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
         "--latency", "-s", str(lua), base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    units = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}

    def latency(label: str) -> float:
        found = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        if found is None:
            raise RuntimeError(f"no {label} latency in wrk's report:\n{out}")
        return float(found.group(1)) * units[found.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    status = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert rps is not None and total is not None, out
    return {
        "rps": float(rps.group(1)),
        "requests": int(total.group(1)),
        "p50": latency("50%"),
        "p99": latency("99%"),
        "socket_errors": sum(int(x) for x in sockets.groups()) if sockets else 0,
        "non2xx_wrk": int(status.group(1)) if status else 0,
    }


def partner_load(base: str, ids: list[str], path: Path, seconds: int) -> dict[str, float]:
    script = PARTNERS_LUA % {"ids": lua_list(ids)}
    figures = run_wrk(base, script, path, threads=2, connections=16, seconds=seconds)
    figures["errors"] = figures["socket_errors"] + figures["non2xx_wrk"]
    return figures


def mixed_load(
    client: httpx.Client,
    ids: list[str],
    owned: list[str],
    sectors: list[str],
    path: Path,
    *,
    run: str,
    seconds: int,
    connections: int,
    staggered: bool,
    cpu: Callable[[], float],
    reads: Callable[[], list[float]],
) -> dict[str, float]:
    result = path / "mixed.txt"
    script = MIXED_LUA % {
        "ids": lua_list(ids),
        "owned": lua_list(owned),
        "sectors": lua_list(sectors),
        "run": run,
        "per": OWNED,
        "every": UPDATE_EVERY,
        "phase": f"tid % {UPDATE_EVERY}" if staggered else "0",
        "key": ADMIN_KEY,
        "result": result,
    }
    used, read = cpu(), reads()
    figures = run_wrk(
        str(client.base_url).rstrip("/"), script, path,
        threads=connections, connections=connections, seconds=seconds,
    )  # fmt: skip
    figures["cpu_ms"] = (cpu() - used) * 1e3 / figures["requests"]
    count_reads(figures, read, reads())  # before the checks below read their own
    updates: list[tuple[int, str, int, int]] = []
    for line in result.read_text().splitlines():
        word, *rest = line.split()
        if word == "non2xx":
            figures["non2xx"] = int(rest[0])
        else:
            updates.append((int(rest[0]), rest[1], int(rest[2]), int(rest[3])))
    figures["errors"] = figures["socket_errors"] + figures["non2xx"]
    # Lost updates: a stored value older than the last one acknowledged (a later one, sent but
    # cut off unanswered when the run ended, may have been stored).
    lost = 0
    stored = {}
    for tid, ident, acked, sent in updates:
        profile = client.get(f"/enterprises/{ident}").raise_for_status().json()
        stored[ident] = profile
        prefix = f"{run}-{tid}-"
        description = str(profile["description"])
        n = int(description[len(prefix) :]) if description.startswith(prefix) else 0
        if not acked <= n <= sent:
            lost += 1
    figures["updated"] = len(updates)
    figures["acked"] = sum(1 for u in updates if u[2] > 0)
    figures["lost"] = lost
    # The index caught up: a registered enterprise's partners are those of its stored profile.
    stale = 0
    for ident, profile in stored.items():
        found = client.get(f"/enterprises/{ident}/partners?k=10").raise_for_status().json()
        typed = client.post(
            "/partners/search",
            json={"region": profile["region"], "offers": profile["offers"],
                  "seeks": profile["seeks"], "k": 10},
        ).raise_for_status().json()  # fmt: skip
        if [(p["id"], round(p["score"], 9)) for p in found["partners"]] != [
            (p["id"], round(p["score"], 9)) for p in typed["partners"]
        ]:
            stale += 1
    figures["stale"] = stale
    return figures


def kept_share(share: float) -> str:
    return "n/a (not counted)" if share != share else f"{share:.0%}"


def counters(client: httpx.Client, name: str, label: str, values: tuple[str, ...]) -> list[float]:
    """The workers' counter `name` for each value of `label` (0 where the tree counts none)."""
    text = client.get("/metrics").text
    found = []
    for value in values:
        line = re.search(rf'^{name}{{{label}="{value}"}} (\S+)$', text, re.M)
        found.append(float(line.group(1)) if line else 0.0)
    return found


def partner_cards(client: httpx.Client) -> tuple[float, float]:
    """Partner cards the workers found kept and read so far (0, 0 where the tree counts none)."""
    kept, read = counters(client, "counterpart_partner_cards_total", "source", ("kept", "read"))
    return kept, read


def partner_reads(client: httpx.Client) -> list[float]:
    """Partner queries so far read outside a transaction, in one, and found stale outside."""
    return counters(
        client, "counterpart_partner_reads_total", "read", ("outside", "transaction", "stale")
    )


def reads_share(figures: dict[str, float]) -> str:
    """How a load's partner queries read the database (`partner_reads` before and after)."""
    outside, transaction = figures["outside"], figures["transaction"]
    if not outside + transaction:
        return "n/a (not counted)"
    return f"{outside / (outside + transaction):.0%} (stale {figures['stale_reads']:.0f})"


def count_reads(figures: dict[str, float], before: list[float], after: list[float]) -> None:
    for key, first, last in zip(("outside", "transaction", "stale_reads"), before, after,
                                strict=True):  # fmt: skip
        figures[key] = last - first


def serve(
    source: Path, env: dict[str, str], log: Path, work: Path, ids: list[str], owned: list[str],
    sectors: list[str], args: argparse.Namespace, run: str,
) -> tuple[dict[str, float], dict[str, float]]:  # fmt: skip
    port = free_port()
    with open(log, "ab") as log_file:
        server = counterpart(
            source, env, "serve", "--port", str(port), "--workers", "2",
            stdout=log_file, stderr=log_file,
        )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            start = time.perf_counter()
            wait_ready(client, server)
            settle(server.pid)
            print(f"    up in {time.perf_counter() - start:.0f} s", flush=True)
            for i in ids[:100]:
                client.get(f"/enterprises/{i}/partners?k=10").raise_for_status()
            # CPU per request, beside the rates: the machine is shared, and a rate moves with
            # whatever else runs, while the CPU a request costs the server hardly does.
            used, cards = server_cpu(server.pid), partner_cards(client)
            reads = partner_reads(client)
            partners = partner_load(str(client.base_url).rstrip("/"), ids, work, args.seconds)
            partners["cpu_ms"] = (server_cpu(server.pid) - used) * 1e3 / partners["requests"]
            count_reads(partners, reads, partner_reads(client))
            kept, read = (after - before for after, before in zip(partner_cards(client), cards,
                                                                  strict=True))  # fmt: skip
            partners["kept"] = kept / (kept + read) if kept + read else float("nan")
            mixed = mixed_load(
                client, ids, owned, sectors, work, run=run, seconds=args.mixed_seconds,
                connections=args.clients, staggered=args.updates == "staggered",
                cpu=lambda: server_cpu(server.pid),
                reads=lambda: partner_reads(client),
            )  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    return partners, mixed


def postgres_url(name: str, create: bool) -> str:
    admin = create_engine(f"{PG_SERVER}/postgres".replace("postgresql:", "postgresql+psycopg:"),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        if create:
            connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{PG_SERVER}/{name}"


def import_population(
    database: str, source: Path, env: dict[str, str], csv_path: Path, count: int, label: str
) -> None:
    """`counterpart import enterprises` of the source tree itself: each tree's own schema."""
    start = time.perf_counter()
    imported = counterpart(source, env, "import", "enterprises", str(csv_path),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    _, err = imported.communicate()
    if imported.returncode:
        raise RuntimeError(f"import failed: {err.decode()[-2000:]}")
    print(f"  {database}, {label}: imported {count:,} enterprises in "
          f"{time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip


def bench_database(
    database: str, records: list[dict[str, object]], sources: dict[str, Path], tmp: Path,
    args: argparse.Namespace,
) -> None:  # fmt: skip
    work = tmp / database
    work.mkdir()
    # Each tree serves a database of its own, imported by its own CLI: the trees' schemas may
    # differ (a newer migration), and one tree's updates must not be the other's data.
    envs = {}
    for number, label in enumerate(sources):
        envs[label] = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "COUNTERPART_DATA_DIR": str(work / f"var{number}"),
            "COUNTERPART_ADMIN_KEY": ADMIN_KEY,
        }
        if database == "postgresql":
            url = postgres_url(f"{PG_DATABASE}{number}", create=True)
            envs[label]["COUNTERPART_DATABASE_URL"] = url
    try:
        for label, source in sources.items():
            import_population(database, source, envs[label], tmp / "enterprises.csv",
                              len(records), label)  # fmt: skip
        ne_ids = [str(r["id"]) for r in records if str(r["id"]).startswith("ne")]
        ea_ids = [str(r["id"]) for r in records if str(r["id"]).startswith("ea")]
        rng = np.random.default_rng(1)
        ids = [ne_ids[int(i)] for i in rng.integers(0, len(ne_ids), 2000)]
        # Owned: distinct, half northeast and half east, none of them among the queried ids.
        queried = set(ids)
        pool = [i for i in ne_ids[::7] if i not in queried][: args.clients * OWNED // 2]
        pool += ea_ids[::11][: args.clients * OWNED - len(pool)]
        owned = [pool[i] for i in rng.permutation(len(pool))]
        sectors = [s.id for s in m.load_dataset().taxonomy.sectors]
        results = {}
        for label, source in sources.items():
            print(f"  {database}, {label}:", flush=True)
            run = f"tp{len(results)}"
            results[label] = serve(source, envs[label], work / f"{run}.log", work, ids, owned,
                                   sectors, args, run)  # fmt: skip
        print(f"  {database}: partner queries, wrk 2 threads, 16 connections, {args.seconds} s")
        for label, (partners, _) in results.items():
            print(f"    {label:22s} {partners['rps']:7.0f} requests/s   p50 "
                  f"{partners['p50']:7.1f} ms   p99 {partners['p99']:7.1f} ms   "
                  f"errors {partners['errors']:.0f}   server CPU {partners['cpu_ms']:.2f} ms "
                  f"a request   partner cards kept {kept_share(partners['kept'])}   read "
                  f"outside a transaction {reads_share(partners)}")  # fmt: skip
        print(f"  {database}: mixed load, {args.clients} connections, {args.mixed_seconds} s, "
              f"1 in {UPDATE_EVERY} a profile update, {args.updates}")  # fmt: skip
        for label, (_, mixed) in results.items():
            print(f"    {label:22s} {mixed['rps']:7.0f} requests/s   p50 {mixed['p50']:7.1f} ms"
                  f"   p99 {mixed['p99']:7.1f} ms   server CPU {mixed['cpu_ms']:.2f} ms a request"
                  f"   partner queries read outside a transaction {reads_share(mixed)}"
                  f"   errors {mixed['errors']:.0f} "
                  f"(non-2xx {mixed['non2xx']:.0f}, socket {mixed['socket_errors']:.0f})   "
                  f"lost updates {mixed['lost']:.0f} of {mixed['acked']:.0f} enterprises "
                  f"updated   stale partner answers after the run "
                  f"{mixed['stale']:.0f}")  # fmt: skip
    finally:
        if database == "postgresql":
            for number in range(len(sources)):
                postgres_url(f"{PG_DATABASE}{number}", create=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_200_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=int, default=20, help="of the partner-query load")
    parser.add_argument("--mixed-seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=80, help="connections of the mixed load")
    parser.add_argument("--baseline", default=BASELINE_REF, help="commit ('' for none)")
    parser.add_argument(
        "--updates",
        choices=("staggered", "aligned"),
        default="staggered",
        help="mixed load: connections send their updates at staggered points of their cycle "
        "of ten requests, or all at the same point (a burst of one update per connection)",
    )
    args = parser.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {cpu_model()}; load average {load}")
    start = time.perf_counter()
    records = list(generate_enterprises(m.load_dataset(), args.count, seed=7))
    print(f"population: {len(records):,} enterprises (generated in "
          f"{time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        write_csv(records, tmp / "enterprises.csv")
        sources = {}
        if args.baseline:
            sources[f"baseline {args.baseline}"] = extract(ROOT, args.baseline, tmp / "baseline")
        sources["this tree"] = ROOT
        for database in databases:
            bench_database(database, records, sources, tmp, args)


if __name__ == "__main__":
    main()
