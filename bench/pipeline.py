"""bench/pipeline.py: a month of the case-study city through the whole pipeline, on SQLite.

Burst: 27,000 reports (14.5% of messages by email) through intake, rules, rendering and
hand-off, with the real worker, a real SMTP server (aiosmtpd) and the local fake of Twilio's
Messages API reached through the official SDK. The clock is outside quiet hours and the
post-approval delay is 0. A bare baseline runs in the same invocation on the same data: it only
inserts the same rows, sends the same emails with smtplib and posts the same texts to the same
fake with plain http.client, one at a time.

Steady: reports pushed to the HTTP API at 20 per second for a minute; latency from the API
accepting a report to the provider accepting its message.

Exits non-zero unless the SMTP server and the fake received exactly the expected set of
distinct messages, each carrying its report number.

    .venv/bin/python bench/pipeline.py [--reports 27000] [--steady-seconds 60] [--skip-steady]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (
    NUMBER,
    PY,
    ROOT,
    Fakes,
    Process,
    bare_sends,
    bench_env,
    check_received,
    cpu_seconds,
    free_port,
    log,
    make_reports,
    percentile,
    setup_database,
    wait_for_all,
    worker_env,
)

# -- the bare baseline --------------------------------------------------------------------------


def baseline(records: list[dict[str, Any]], fakes: Fakes, tmp: Path) -> float:
    """Insert the same rows, send the same emails with smtplib and post the same texts with
    http.client, one at a time: the floor the pipeline is measured against."""
    started = time.monotonic()
    db = sqlite3.connect(tmp / "baseline.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE report (number TEXT PRIMARY KEY, body TEXT)")
    for start in range(0, len(records), 250):
        with db:
            db.executemany(
                "INSERT INTO report VALUES (?, ?)",
                [(r["report_number"], json.dumps(r)) for r in records[start : start + 250]],
            )
    db.close()

    bare_sends(records, fakes)
    return time.monotonic() - started


# -- the pipeline -------------------------------------------------------------------------------


def burst(
    records: list[dict[str, Any]], fakes: Fakes, env: dict[str, str], tmp: Path
) -> tuple[float, dict[str, float]]:
    path = tmp / "burst.jsonl"
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8"
    )
    worker = Process([PY, "-m", "victim_notify.cli", "worker"], worker_env(env, fakes))
    fake_pids = {"twilio fake": fakes.twilio.proc.pid, "smtp server": fakes.smtp.proc.pid}
    cpu = {name: -cpu_seconds(pid) for name, pid in fake_pids.items()}
    try:
        started = time.monotonic()
        ingest = subprocess.Popen(
            [PY, "-m", "victim_notify.cli", "ingest", str(path), "--agency", "demo"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        while ingest.poll() is None:
            cpu["intake"] = cpu_seconds(ingest.pid) or cpu.get("intake", 0.0)
            time.sleep(0.1)
            if os.environ.get("BENCH_PROGRESS"):
                received = fakes.text_count() + fakes.email_count()
                log(f"  {time.monotonic() - started:5.1f} s: intake running, {received} received")
                time.sleep(1.9)
        if ingest.returncode:
            raise RuntimeError("ingest failed")
        log(f"burst: intake finished after {time.monotonic() - started:.1f} s")
        finished = wait_for_all(fakes, len(records), timeout=600, started=started)
        cpu["worker"] = cpu_seconds(worker.proc.pid)
        for name, pid in fake_pids.items():
            cpu[name] += cpu_seconds(pid)
        return finished - started, cpu
    finally:
        worker.stop()


def steady(
    simulator_records: list[dict[str, Any]],
    fakes: Fakes,
    env: dict[str, str],
    rate: float,
    seconds: float,
) -> list[float]:
    port = free_port()
    token = subprocess.run(
        [PY, "-m", "victim_notify.cli", "api-token", "create", "--agency", "demo"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    web = Process([PY, "-m", "victim_notify.cli", "serve", "--bind", f"127.0.0.1:{port}"], env)
    worker = Process([PY, "-m", "victim_notify.cli", "worker"], worker_env(env, fakes))
    accepted: dict[str, float] = {}
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        count = int(rate * seconds)
        start = time.monotonic()
        for index, record in enumerate(simulator_records[:count]):
            time.sleep(max(0.0, start + index / rate - time.monotonic()))
            connection.request("POST", "/api/v1/reports", json.dumps(record), headers)
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                raise RuntimeError(f"API answered {response.status}")
            accepted[record["report_number"]] = time.time()
        wait_for_all(fakes, count, timeout=120)
    finally:
        worker.stop()
        web.stop()
    delivered: dict[str, float] = {}
    for text in fakes.texts():
        for number in NUMBER.findall(text["body"])[:1]:
            delivered[number] = text["created_at"]
    for email in fakes.emails():
        for number in NUMBER.findall(email["subject"])[:1]:
            delivered[number] = email["at"]
    return [delivered[n] - accepted[n] for n in accepted]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=27000)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--steady-rate", type=float, default=20.0)
    parser.add_argument("--steady-seconds", type=float, default=60.0)
    parser.add_argument("--skip-steady", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vn-bench-") as name:
        tmp = Path(name)
        env = bench_env(tmp)
        setup_database(env)
        records, expected = make_reports(args.reports, args.seed, "B26-")
        emails = sum(1 for channel in expected.values() if channel == "email")
        log(
            f"data: {len(records)} reports, {emails} emails ({emails / len(records):.1%}), "
            f"{len(records) - emails} texts"
        )
        fakes = Fakes(env, tmp)
        failed = False
        try:
            base_seconds = baseline(records, fakes, tmp)
            log(
                f"baseline: {len(records)} reports in {base_seconds:.1f} s "
                f"({len(records) / base_seconds:.0f}/s)"
            )
            fakes.reset()

            seconds, cpu = burst(records, fakes, env, tmp)
            busy = sum(cpu.values())
            log(
                "burst: CPU "
                + ", ".join(f"{name} {value:.1f} s" for name, value in cpu.items())
                + f"; {busy:.1f} s in all, {busy / seconds:.2f} cores busy, "
                f"{len(records) / busy:.0f} reports per busy core-second"
            )
            ok, detail = check_received(fakes, expected)
            log(f"burst: received check {'passed' if ok else 'FAILED'}: {detail}")
            failed |= not ok
            burst_line = (
                f"burst: {len(records)} reports in {seconds:.1f} s "
                f"({len(records) / seconds:.0f}/s), "
                f"{seconds / base_seconds:.2f}x the bare baseline's time"
            )
            log(burst_line)

            if not args.skip_steady:
                fakes.reset()
                steady_records, steady_expected = make_reports(
                    int(args.steady_rate * args.steady_seconds), args.seed + 1, "B27-"
                )
                latencies = steady(
                    steady_records, fakes, env, args.steady_rate, args.steady_seconds
                )
                ok, detail = check_received(fakes, steady_expected)
                log(f"steady: received check {'passed' if ok else 'FAILED'}: {detail}")
                failed |= not ok
                log(
                    f"steady: {len(latencies)} reports at {args.steady_rate:.0f}/s, "
                    f"API accepted to provider accepted: p50 {statistics.median(latencies):.3f} s, "
                    f"p99 {percentile(latencies, 0.99):.3f} s, max {max(latencies):.3f} s"
                )
            log(
                f"pipeline: {burst_line.removeprefix('burst: ')}"
                + ("" if args.skip_steady else f"; steady p99 {percentile(latencies, 0.99):.2f} s")
            )
        finally:
            fakes.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
