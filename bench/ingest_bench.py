"""Ingest benchmark: full FOCUS ingest against a bare PostgreSQL COPY of the same file.

    python bench/ingest_bench.py [--rows 1000000] [--repeat 3] [--workers-rows N]
                                 [--chunk-rows 50000] [--skip-workers]

Generates a synthetic FOCUS file with ``generate_focus`` (cached in ``bench-output/``), creates
its own database (``DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/finops_bench``)
and drops it at the end, then times:

(a) a bare ``COPY`` of the file into an UNLOGGED table with the file's columns, all ``text``
    (no parsing, no index, no WAL: the floor for moving these bytes into PostgreSQL);
(b) the full ingest, ``manage.py ingest_focus`` in a subprocess, whose peak RSS is read from
    ``wait4``;
(c) the same delivery loaded in chunks by one and by two Celery workers (needs ``REDIS_URL``,
    default ``redis://127.0.0.1:6379/15``).

Each part is measured ``--repeat`` times, (a) and (b) alternating on an emptied database, and
the run with the median ratio (or speed-up) is reported with the ratios of every run: the
machines are shared, and one slow moment in either half moves a single ratio a lot. Only ratios
measured in the same run are meaningful; nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

PROJECT = Path(__file__).resolve().parents[1]
OUTPUT = PROJECT / "bench-output"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/finops_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
COPY_BLOCK = 8 * 1024 * 1024
QUEUES = "ingest,default"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers-rows", type=int, default=None, help="Rows for part (c).")
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument(
        "--repeat", type=int, default=3,
        help="Measure each part this many times, alternating; the medians are reported.",
    )  # fmt: skip
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument(
        "--schema", choices=("migrate", "models"), default="migrate",
        help="Build the schema with the migrations, or straight from the models.",
    )  # fmt: skip
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "1", "REDIS_URL": ""}
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    env.pop("CELERY_BROKER_URL", None)

    path = focus_file(args.rows, env)
    database_create(url)
    try:
        schema_create(env, args.schema)
        runs = []
        for _ in range(args.repeat):
            _data_clear(url)
            run = {"copy_seconds": bare_copy(url, path)}
            run.update(full_ingest(path, env))
            runs.append(run)
        print_ingest(args.rows, path.stat().st_size, runs)
        if not args.skip_workers:
            worker_path = focus_file(args.workers_rows or args.rows, env)
            pairs = [
                workers_compare(worker_path, url, redis_url, env, args.chunk_rows)
                for _ in range(args.repeat)
            ]
            print_workers(pairs)
    finally:
        database_drop(url)


def focus_file(rows: int, env: dict[str, str]) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"focus-{rows}.csv"
    if not path.exists():
        print(f"generating {rows:,} rows into {path} ...", file=sys.stderr)
        partial = path.with_suffix(".partial.csv")
        manage(env, "generate_focus", str(rows), str(partial), "--seed", "1")
        partial.replace(path)
    return path


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip


def _admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def database_create(url: str) -> None:
    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_drop(url: str) -> None:
    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_MODELS_SCHEMA = """
import django
django.setup()
from django.apps import apps
from django.db import connection
with connection.schema_editor() as editor:
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            editor.create_model(model)
"""


def schema_create(env: dict[str, str], how: str) -> None:
    if how == "migrate":
        manage(env, "migrate", "--no-input", "-v", "0")
        return
    subprocess.run(
        [sys.executable, "-c", _MODELS_SCHEMA],
        cwd=PROJECT, check=True, capture_output=True,
        env={**env, "DJANGO_SETTINGS_MODULE": "finops_exec.settings", "PYTHONPATH": str(PROJECT)},
    )  # fmt: skip


def bare_copy(url: str, path: Path) -> float:
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    columns = ", ".join(f'"{name}" text' for name in header)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE UNLOGGED TABLE bench_raw ({columns})")
        started = time.perf_counter()
        sql = "COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)"
        cursor = conn.cursor()
        with cursor, path.open("rb") as source, cursor.copy(sql) as copy:
            while block := source.read(COPY_BLOCK):
                copy.write(block)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw")
    return seconds


def full_ingest(path: Path, env: dict[str, str]) -> dict[str, object]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "ingest_focus", str(path), "--json"],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    summary = json.loads(output.strip().splitlines()[-1])
    if summary["status"] != "loaded":
        raise SystemExit(f"the ingest did not load: {summary['errors'][:3]}")
    # ru_maxrss is in kilobytes on Linux.
    return {"ingest_seconds": seconds, "ingest_peak_rss_mb": usage.ru_maxrss / 1024,
            "ingest_rows": summary["rows_loaded"], "totals": summary["totals"]}  # fmt: skip


def workers_compare(
    path: Path, url: str, redis_url: str, env: dict[str, str], chunk_rows: int
) -> dict[str, object]:
    worker_env = {**env, "REDIS_URL": redis_url}
    one = _workers_run(path, url, worker_env, 1, chunk_rows)
    two = _workers_run(path, url, worker_env, 2, chunk_rows)
    return {"workers_rows": one["rows"], "one_worker_seconds": one["seconds"],
            "two_workers_seconds": two["seconds"], "two_worker_hosts": two["hosts"]}  # fmt: skip


_WORKER_DRIVER = """
import json, sys, time, django
django.setup()
from portfolio.models import Delivery
from portfolio.models.spend import DeliveryChunk
from portfolio.services.ingest import delivery_create, delivery_enqueue
from finops_exec.celery import app
expected = int(sys.argv[2])
deadline = time.monotonic() + 120
while len(app.control.ping(timeout=1.0)) < expected:
    assert time.monotonic() < deadline, "workers did not answer"
delivery = delivery_create(paths=[sys.argv[1]])
started = time.perf_counter()
delivery_enqueue(delivery=delivery, chunk_rows=int(sys.argv[3]))
while not delivery.is_finished:
    time.sleep(0.2)
    delivery.refresh_from_db()
seconds = time.perf_counter() - started
chunks = DeliveryChunk.objects.filter(delivery=delivery)
hosts = sorted(set(chunks.values_list("worker", flat=True)))
print(json.dumps({"status": delivery.status, "rows": delivery.rows_loaded, "seconds": seconds,
                  "hosts": hosts, "errors": delivery.errors[:3]}))
"""


def _workers_run(
    path: Path, url: str, env: dict[str, str], count: int, chunk_rows: int
) -> dict[str, object]:
    _data_clear(url)
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "finops_exec", "purge", "-f", "-Q", QUEUES],
        cwd=PROJECT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    workers = [_worker_start(env, count, i) for i in range(1, count + 1)]
    try:
        driver = subprocess.run(
            [sys.executable, "-c", _WORKER_DRIVER, str(path), str(count), str(chunk_rows)],
            cwd=PROJECT, env={**env, "DJANGO_SETTINGS_MODULE": "finops_exec.settings",
                              "PYTHONPATH": str(PROJECT)},
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    result = json.loads(driver.stdout.strip().splitlines()[-1])
    if result["status"] != "loaded":
        raise SystemExit(f"the chunked ingest did not load: {result['errors']}")
    return result


def _worker_start(env: dict[str, str], count: int, number: int) -> subprocess.Popen[bytes]:
    log = (OUTPUT / f"worker-{count}-{number}.log").open("w")
    command = [
        sys.executable, "-m", "celery", "-A", "finops_exec", "worker", "--pool=solo", "-Q", QUEUES,
        "-n", f"bench{number}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-l", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=PROJECT, env=env, stdout=log, stderr=log)


def _data_clear(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE portfolio_spendblock, portfolio_dailyspend, portfolio_billingslice, "
            "portfolio_deliverychunk, portfolio_delivery CASCADE"
        )


def print_ingest(rows: int, size: int, runs: list[dict[str, Any]]) -> None:
    ratios = [run["ingest_seconds"] / run["copy_seconds"] for run in runs]
    middle = runs[ratios.index(statistics.median_low(ratios))]
    copy_s, ingest_s = middle["copy_seconds"], middle["ingest_seconds"]
    lines = [
        f"rows                          {rows:,} ({size / 1e6:,.0f} MB CSV)",
        f"(a) bare COPY, UNLOGGED text  {copy_s:8.2f} s  {rows / copy_s:12,.0f} rows/s",
        f"(b) full ingest, in-process   {ingest_s:8.2f} s  {rows / ingest_s:12,.0f} rows/s",
        f"ratio b/a (median of {len(runs)})        {ingest_s / copy_s:8.2f}",
        f"ratios of the runs            {', '.join(f'{r:.2f}' for r in ratios)}",
        f"peak RSS of the ingest        {max(r['ingest_peak_rss_mb'] for r in runs):8.0f} MB"
        " (highest run)",
        f"ingest totals                 {json.dumps(middle['totals'])}",
    ]
    print("\n".join(lines), flush=True)


def print_workers(pairs: list[dict[str, Any]]) -> None:
    speedups = [pair["one_worker_seconds"] / pair["two_workers_seconds"] for pair in pairs]
    middle = pairs[speedups.index(statistics.median_low(speedups))]
    one, two = middle["one_worker_seconds"], middle["two_workers_seconds"]
    rows = middle["workers_rows"]
    lines = [
        f"chunked, 1 worker             {one:8.2f} s  {rows / one:12,.0f} rows/s",
        f"chunked, 2 workers            {two:8.2f} s  {rows / two:12,.0f} rows/s",
        f"speed-up 2 vs 1 (median of {len(pairs)})  {one / two:8.2f}",
        f"speed-ups of the runs         {', '.join(f'{s:.2f}' for s in speedups)}",
        f"chunks loaded by              {', '.join(middle['two_worker_hosts'])}",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
