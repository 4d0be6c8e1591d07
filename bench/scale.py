"""bench/scale.py: a burst of 270,000 reports on PostgreSQL, handed off by 1, then 2 workers.

Ten months of the case-study city at once, or a day of a large state. The burst arrives as an
RMS delivers a backlog: export files of 1,000 reports dropped into the agency's drop folder
all at once. Each run starts from the same freshly set-up database (a PostgreSQL template
copy) and starts N `victim-notify worker` processes, which do all the work: each dropped file
is taken in by one worker, and every worker sends. A run ends when the real SMTP server and the
Twilio fake (reached through the official SDK) have received every message. A bare baseline
runs first on the same data: it inserts the same records into a PostgreSQL table and sends the
same messages with smtplib and http.client, one at a time.

Figures per run: time to hand every message off, throughput, CPU of every process taking
part (workers, the fakes, the PostgreSQL backends serving them and autovacuum's workers on
the run's database), throughput per busy core-second, and the latency from a message falling
due (its `not_before`) to the provider accepting it, p50 and p99. Then the speed-up from 1 to
2 workers. A last run with 4 workers checks correctness only: two cores cannot show more
speed-up. The server's settings that matter most (autovacuum, shared_buffers) are printed
first: the shared server on these machines runs with autovacuum off, which no deployment
does; `--own-cluster` runs on a cluster with the stock settings instead.

Exits non-zero if any run's providers received a message missing, extra, duplicated or on
the wrong channel.

    .venv/bin/python bench/scale.py [--reports 270000] [--workers 1 2] [--check-workers 4]
                                    [--check-reports 27000] [--postgres URL | --own-cluster]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from harness import (
    NUMBER,
    PY,
    Fakes,
    Process,
    bare_sends,
    bench_env,
    check_received,
    cpu_seconds,
    log,
    make_reports,
    percentile,
    setup_database,
    wait_for_all,
    worker_env,
)

# -- databases ----------------------------------------------------------------------------------


class Databases:
    """Databases this run creates on the PostgreSQL server and drops at the end."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.prefix = f"vn_scale_{os.getpid()}"
        self.made: list[str] = []

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as admin:
            admin.execute(sql)

    def url(self, name: str) -> str:
        base, _, _ = self.server_url.rpartition("/")
        return f"{base}/{name}"

    def create(self, suffix: str, template: str | None = None) -> str:
        name = f"{self.prefix}_{suffix}"
        self._admin(f"DROP DATABASE IF EXISTS {name}")
        self._admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        self.made.append(name)
        return name

    def drop_all(self) -> None:
        for name in reversed(self.made):
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def backend_pids(url: str) -> dict[int, bool]:
    """The server processes working on this run's database: pid → whether it is autovacuum's
    (vacuuming and analysing the tables the run fills) rather than serving a connection."""
    with psycopg.connect(url, autocommit=True) as db:
        rows = db.execute(
            "SELECT pid, backend_type = 'autovacuum worker' FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return dict(rows)


# -- CPU accounting -----------------------------------------------------------------------------


@dataclass
class CpuSampler:
    """Samples the CPU of a run's processes, including short-lived PostgreSQL backends, so
    the last reading of each process survives its exit."""

    url: str
    named: dict[str, list[int]] = field(default_factory=dict)
    baseline: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    backends: dict[int, bool] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def watch(self, name: str, pid: int, count_from_now: bool = False) -> None:
        self.named.setdefault(name, []).append(pid)
        if count_from_now:
            self.baseline[pid] = cpu_seconds(pid)

    def sample(self) -> None:
        try:
            self.backends.update(backend_pids(self.url))
        except psycopg.Error:
            pass
        for pid in [*self.backends, *(p for pids in self.named.values() for p in pids)]:
            reading = cpu_seconds(pid)
            if reading:
                self.last[pid] = reading

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.sample()

    def totals(self) -> dict[str, float]:
        self.sample()
        used = {
            name: sum(self.last.get(pid, 0.0) - self.baseline.get(pid, 0.0) for pid in pids)
            for name, pids in self.named.items()
        }
        used["postgres"] = sum(
            self.last.get(pid, 0.0) for pid, vacuum in self.backends.items() if not vacuum
        )
        used["autovacuum"] = sum(
            self.last.get(pid, 0.0) for pid, vacuum in self.backends.items() if vacuum
        )
        return used


# -- one run ------------------------------------------------------------------------------------


@dataclass
class RunResult:
    workers: int
    reports: int
    seconds: float
    intake_seconds: float
    cpu: dict[str, float]
    latencies: list[float]
    check: str
    ok: bool

    @property
    def busy(self) -> float:
        return sum(self.cpu.values())


def due_times(url: str) -> dict[str, float]:
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT r.report_number, extract(epoch FROM n.not_before) "
            "FROM outbox_notification n JOIN intake_report r ON r.id = n.report_id"
        ).fetchall()
    return {number: float(epoch) for number, epoch in rows}


def accepted_times(fakes: Fakes) -> dict[str, float]:
    accepted: dict[str, float] = {}
    for text in fakes.texts():
        for number in NUMBER.findall(text["body"])[:1]:
            accepted[number] = text["created_at"]
    for email in fakes.emails():
        for number in NUMBER.findall(email["subject"])[:1]:
            accepted[number] = email["at"]
    return accepted


def stage_files(path: Path, folder: Path, per_file: int) -> list[Path]:
    """The burst as the RMS exports it would arrive in: files of `per_file` reports, written
    ahead of the run with an old modification time so the drop folder takes them at once."""
    folder.mkdir()
    files: list[Path] = []
    with path.open(encoding="utf-8") as source:
        lines = source.readlines()
    for start in range(0, len(lines), per_file):
        staged = folder / f"export-{start // per_file + 1:05d}.jsonl"
        staged.write_text("".join(lines[start : start + per_file]), encoding="utf-8")
        old = time.time() - 60
        os.utime(staged, (old, old))
        files.append(staged)
    return files


def run_burst(
    workers: int,
    files: list[Path],
    expected: dict[str, str],
    fakes: Fakes,
    env: dict[str, str],
    url: str,
) -> RunResult:
    """Drops every file into the agency's drop folder at once and starts the workers: they
    import the files (each file taken by one worker) and send, so N workers do all the work."""
    fakes.reset()
    drop = files[0].parent.parent / f"drop-{workers}-{os.getpid()}-{time.monotonic_ns()}"
    agency_folder = drop / "demo"
    agency_folder.mkdir(parents=True)
    run_env = env | {"DATABASE_URL": url, "VN_DROP_DIR": str(drop)}
    sampler = CpuSampler(url)
    for name, process in (("twilio fake", fakes.twilio), ("smtp server", fakes.smtp)):
        sampler.watch(name, process.proc.pid, count_from_now=True)
    for staged in files:
        os.link(staged, agency_folder / staged.name)
    started = time.monotonic()
    pool = [
        Process([PY, "-m", "victim_notify.cli", "worker"], worker_env(run_env, fakes))
        for _ in range(workers)
    ]
    for worker in pool:
        sampler.watch("workers", worker.proc.pid)
    watcher = threading.Thread(target=sampler.run, daemon=True)
    watcher.start()
    try:
        done = agency_folder / "done"
        while len(list(done.glob("*.summary.json")) if done.is_dir() else []) < len(files):
            if any(worker.proc.poll() is not None for worker in pool):
                raise RuntimeError("a worker stopped")
            time.sleep(0.2)
        intake_seconds = time.monotonic() - started
        finished = wait_for_all(fakes, len(expected), timeout=1800, started=started)
        cpu = sampler.totals()
    finally:
        sampler.stop.set()
        for worker in pool:
            worker.stop()
    ok, check = check_received(fakes, expected)
    due = due_times(url)
    latencies = [at - due[number] for number, at in accepted_times(fakes).items() if number in due]
    return RunResult(
        workers, len(expected), finished - started, intake_seconds, cpu, latencies, check, ok
    )


def report(result: RunResult) -> None:
    name = f"{result.workers} worker{'s' if result.workers > 1 else ''}"
    log(
        f"{name}: {result.reports} reports handed off in {result.seconds:.1f} s "
        f"({result.reports / result.seconds:.0f}/s); intake done after "
        f"{result.intake_seconds:.1f} s; received check {'passed' if result.ok else 'FAILED'}: "
        f"{result.check}"
    )
    log(
        f"{name}: CPU "
        + ", ".join(f"{k} {v:.1f} s" for k, v in result.cpu.items())
        + f"; {result.busy:.1f} s in all, {result.busy / result.seconds:.2f} cores busy, "
        f"{result.reports / result.busy:.0f} reports per busy core-second, "
        f"{result.reports / result.cpu['workers']:.0f} per worker core-second"
    )
    if result.latencies:
        log(
            f"{name}: due to hand-off p50 {percentile(result.latencies, 0.5):.1f} s, "
            f"p99 {percentile(result.latencies, 0.99):.1f} s, "
            f"max {max(result.latencies):.1f} s"
        )


# -- the bare baseline --------------------------------------------------------------------------


def baseline(records: list[dict[str, Any]], fakes: Fakes, url: str) -> float:
    """Insert the same records into PostgreSQL, 250 to a transaction, then send the same
    messages one at a time: the floor the pipeline is measured against."""
    started = time.monotonic()
    with psycopg.connect(url) as db:
        db.execute("CREATE TABLE bare_report (number text PRIMARY KEY, body jsonb)")
        for start in range(0, len(records), 250):
            with db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO bare_report VALUES (%s, %s)",
                    [(r["report_number"], json.dumps(r)) for r in records[start : start + 250]],
                )
            db.commit()
    bare_sends(records, fakes)
    return time.monotonic() - started


# -- main ---------------------------------------------------------------------------------------

OWN_CLUSTER_PORT = 5442


def server_settings(url: str) -> str:
    """The server settings the figures depend on most, printed with them."""
    names = ("server_version", "autovacuum", "shared_buffers", "synchronous_commit")
    with psycopg.connect(url, autocommit=True) as db:
        values = [db.execute(f"SHOW {name}").fetchone()[0] for name in names]  # type: ignore[index]
    return ", ".join(f"{name} {value}" for name, value in zip(names, values, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=270_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--check-workers", type=int, default=4, help="0 to skip")
    parser.add_argument("--check-reports", type=int, default=27_000)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--per-file", type=int, default=1000, help="reports per dropped file")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server where this run may create and drop databases",
    )
    parser.add_argument(
        "--own-cluster",
        action="store_true",
        help=f"run on a PostgreSQL cluster of its own with the stock settings, created on port "
        f"{OWN_CLUSTER_PORT} and dropped afterwards (needs root and postgresql-common)",
    )
    args = parser.parse_args()

    from tests import pgcluster  # importable once harness has put the project on the path

    with ExitStack() as stack:
        if args.own_cluster:
            if reason := pgcluster.why_not_available():
                parser.error(f"--own-cluster: {reason}")
            args.postgres = stack.enter_context(pgcluster.own_cluster("vn_scale", OWN_CLUSTER_PORT))
        return run(args)


def run(args: argparse.Namespace) -> int:
    log(f"postgres: {server_settings(args.postgres)}")
    databases = Databases(args.postgres)
    with tempfile.TemporaryDirectory(prefix="vn-scale-") as name:
        tmp = Path(name)
        env = bench_env(tmp)
        fakes = None
        try:
            template = databases.create("template")
            setup_database(env | {"DATABASE_URL": databases.url(template)})
            records, expected = make_reports(args.reports, args.seed, "B26-")
            emails = sum(1 for channel in expected.values() if channel == "email")
            log(
                f"data: {len(records)} reports, {emails} emails "
                f"({emails / len(records):.1%}), {len(records) - emails} texts"
            )
            path = tmp / "burst.jsonl"
            with path.open("w", encoding="utf-8") as out:
                for record in records:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            files = stage_files(path, tmp / "staged", args.per_file)
            log(f"data: dropped as {len(files)} files of up to {args.per_file} reports")
            fakes = Fakes(env, tmp)

            bare = databases.create("baseline")
            base_seconds = baseline(records, fakes, databases.url(bare))
            log(
                f"baseline: {len(records)} reports in {base_seconds:.1f} s "
                f"({len(records) / base_seconds:.0f}/s)"
            )

            results: dict[int, RunResult] = {}
            for workers in args.workers:
                run = databases.create(f"w{workers}", template=template)
                results[workers] = run_burst(
                    workers, files, expected, fakes, env, databases.url(run)
                )
                report(results[workers])
                log(
                    f"{workers} worker{'s' if workers > 1 else ''}: "
                    f"{results[workers].seconds / base_seconds:.2f}x the bare baseline's time"
                )
            failed = not all(r.ok for r in results.values())

            if args.check_workers:
                check_path = tmp / "check.jsonl"
                with path.open(encoding="utf-8") as source, check_path.open("w") as out:
                    for _, line in zip(range(args.check_reports), source, strict=False):
                        out.write(line)
                check_files = stage_files(check_path, tmp / "staged-check", args.per_file)
                check_expected = dict(list(expected.items())[: args.check_reports])
                run = databases.create(f"w{args.check_workers}", template=template)
                check = run_burst(
                    args.check_workers,
                    check_files,
                    check_expected,
                    fakes,
                    env,
                    databases.url(run),
                )
                report(check)
                failed |= not check.ok

            headline = f"scale: {len(records)} reports on PostgreSQL"
            for workers, result in results.items():
                headline += (
                    f", {workers} worker{'s' if workers > 1 else ''} {result.seconds:.0f} s "
                    f"({result.reports / result.seconds:.0f}/s)"
                )
            if 1 in results and 2 in results:
                speed_up = results[1].seconds / results[2].seconds
                per_core = (results[2].reports / results[2].busy) / (
                    results[1].reports / results[1].busy
                )
                log(
                    f"speed-up from 1 to 2 workers: {speed_up:.2f} "
                    f"(work per busy core-second kept: {per_core:.0%})"
                )
                headline += f", speed-up {speed_up:.2f}"
            fastest = min(results.values(), key=lambda r: r.seconds)
            headline += f", {fastest.seconds / base_seconds:.2f}x the bare baseline's time"
            log(headline)
        finally:
            if fakes:
                fakes.stop()
            databases.drop_all()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
