"""Serve a benchmark database with the real web stack (uvicorn), on one core.

    python -m bench.serve DATABASE PORT [--core N]

The listening benchmark starts it in a subprocess and sends its requests from another core, so
that the server's core does nothing but serve.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from clameur.settings import DatabaseSettings, Settings, WebSettings
from clameur.store import migrate
from clameur.store.engine import make_engine, make_session_factory
from clameur.web.app import create_app

SECRET = "bench-secret-key-not-for-production"


def bench_settings(database: Path) -> Settings:
    """Settings for serving a benchmark database (fixed session key, data folder beside it)."""
    return Settings(
        data_dir=database.parent,
        database=DatabaseSettings(url=f"sqlite:///{database.as_posix()}"),
        web=WebSettings(secret_key=SecretStr(SECRET)),
    )


def main() -> None:
    """Pin, build the app as `clameur serve --no-runner` does, serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("--core", type=int, default=None)
    args = parser.parse_args()
    if args.core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})
    settings = bench_settings(args.database.resolve())
    engine = make_engine(settings.database_url)
    migrate.ensure_current(engine)
    app = create_app(settings, make_session_factory(engine))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
