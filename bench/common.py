"""What every benchmark needs: the machine, the commit, one pinned core, fresh databases."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

import clameur
from clameur.listening.service import create_query
from clameur.models import Job, SavedQuery
from clameur.store import migrate
from clameur.store.engine import make_engine, make_session_factory, unit_of_work
from clameur.workspaces.service import create_workspace

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results"
# The demo's history ends here (a Sunday night of the festival); fixed so runs compare.
HISTORY_END = datetime(2026, 7, 12, 22, 0, tzinfo=UTC)
WORKSPACE_SLUG = "bench"
# Stage names in ingest order, shared by the import figures and the markdown table.
STAGES = ("read", "validate", "normalise", "analysis", "match", "store", "commit")


def pin_to_one_core() -> list[int]:
    """Run this process (and the processes it starts) on one core, so "one core" is honest."""
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return sorted(os.sched_getaffinity(0))
    return []


def machine() -> dict[str, Any]:
    """The CPU model, core counts, memory and software versions of this run."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": memory_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "clameur": clameur.__version__,
        # Other work on the machine skews the figures: the load when this part finished.
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def git_commit() -> dict[str, Any]:
    """The commit the figures were measured on, and whether the tree had local changes."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    changed = [
        line.split(None, 1)[1]
        for line in git("status", "--porcelain", "--untracked-files=all", "src").splitlines()
        if line.strip()
    ]
    return {
        "commit": git("rev-parse", "HEAD") or None,
        "dirty": bool(changed),
        "local_changes_in_src": changed,
    }


def envelope(name: str, parameters: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    """A result file: what was measured, where, when, on which code, with which parameters."""
    return {
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_commit(),
        "machine": machine(),
        "parameters": parameters,
        **figures,
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write a result file (UTF-8, indented, stable key order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """Measure a block: `took["s"]` wall-clock seconds, `took["cpu"]` this process's CPU seconds.

    The machine may be shared: CPU time is what the work cost, whatever else ran beside it.
    """
    took: dict[str, float] = {}
    start = time.perf_counter()
    start_cpu = time.process_time()
    try:
        yield took
    finally:
        took["s"] = time.perf_counter() - start
        took["cpu"] = time.process_time() - start_cpu


def shown(path: Path) -> str:
    """A path as written in the results: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{path.as_posix()}"


def remove_database(path: Path) -> None:
    """Delete an SQLite file and its WAL companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def fresh_database(path: Path) -> tuple[Engine, sessionmaker[Session]]:
    """An empty SQLite database at `path`, migrated to the latest revision."""
    remove_database(path)
    engine = make_engine(sqlite_url(path))
    migrate.upgrade(engine)
    return engine, make_session_factory(engine)


def open_database(path: Path, check: bool = True) -> tuple[Engine, sessionmaker[Session]]:
    """An existing SQLite database, checked to be at the latest revision unless told not to."""
    engine = make_engine(sqlite_url(path))
    if check:
        migrate.ensure_current(engine)
    return engine, make_session_factory(engine)


def prepare_workspace(factory: sessionmaker[Session], queries: Sequence[tuple[str, str]]) -> int:
    """The benchmark workspace with its saved queries, created through the listening service.

    The queries exist before any post arrives, so ingest matches every post against them and
    their backfill has nothing to add: it is marked done and its jobs dropped, so that a server
    started on this database does not replay a thousand backfills.
    """
    with unit_of_work(factory) as session:
        workspace = create_workspace(
            session, WORKSPACE_SLUG, "Bench — Festival Lueurs d'Été", ["Cigalune"]
        )
        for name, query in queries:
            create_query(session, workspace.id, name, query)
        session.execute(
            update(SavedQuery)
            .where(SavedQuery.workspace_id == workspace.id)
            .values(backfilled_revision=SavedQuery.revision)
        )
        session.execute(Job.__table__.delete().where(Job.kind == "listening.backfill_query"))
        return workspace.id


def checkpoint(engine: Engine) -> None:
    """Fold the WAL into the database file (before it is copied or measured)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def file_size_mib(path: Path) -> float:
    """Size of an SQLite database with its WAL, in MiB."""
    total = sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )
    return round(total / 1024 / 1024, 1)
