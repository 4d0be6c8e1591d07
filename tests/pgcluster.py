"""A throwaway PostgreSQL cluster of our own, never the machine's shared server.

Used where a test or a benchmark must restart the server (the fault tests) or needs the
server's stock settings (the scale benchmark: the shared server here runs with autovacuum
off, which no deployment does). Needs Debian's postgresql-common and root, since `initdb`
refuses to run as root and `pg_createcluster` runs it as the postgres user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def why_not_available() -> str | None:
    """Why a cluster cannot be made here, or None when it can."""
    if not shutil.which("pg_createcluster") or not shutil.which("pg_ctlcluster"):
        return "needs Debian's postgresql-common (pg_createcluster)"
    if os.geteuid() != 0:
        return "creating a PostgreSQL cluster needs root"
    if not installed_version():
        return "no PostgreSQL server is installed under /usr/lib/postgresql"
    return None


def installed_version() -> str:
    """The newest PostgreSQL server version installed, e.g. "15"."""
    root = Path("/usr/lib/postgresql")
    versions = [p.name for p in root.iterdir() if (p / "bin" / "postgres").exists()]
    return max(versions, key=int) if versions else ""


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@contextmanager
def own_cluster(name: str, port: int) -> Iterator[str]:
    """Create and start cluster `name` on `port` with the stock settings; yield the URL of
    its `postgres` database; stop and drop it afterwards (and first, if an interrupted run
    left it behind)."""
    version = installed_version()
    drop = ["pg_dropcluster", "--stop", version, name]
    subprocess.run(drop, capture_output=True, timeout=120)
    _run("pg_createcluster", "-p", str(port), version, name, "--", "--auth=trust")
    try:
        _run("pg_ctlcluster", version, name, "start")
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(drop, capture_output=True, timeout=120)


def restart(name: str) -> None:
    """Restart at once, cutting every connection (`-m fast`), as a failover or a crash does."""
    _run("pg_ctlcluster", installed_version(), name, "restart", "-m", "fast")
