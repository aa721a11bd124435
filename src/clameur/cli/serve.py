"""`clameur serve` and `clameur worker`: the web server and the pipeline's processes."""

from __future__ import annotations

import logging
import signal
from typing import Any

import typer

from clameur.cli.common import console, friendly_errors, open_store, settings
from clameur.connectors.demo.replay import DemoReplay
from clameur.pipeline.runner import Runner
from clameur.store.engine import unit_of_work


def serve_command(
    host: str | None = typer.Option(None, help="Address to listen on (default from settings)."),
    port: int | None = typer.Option(None, help="Port (default from settings)."),
    demo: bool = typer.Option(
        False, "--demo", help="Stream live demo posts into the demo workspace."
    ),
    runner: bool | None = typer.Option(
        None, "--runner/--no-runner", help="Run the pipeline inside this process (default: on)."
    ),
) -> None:
    """Serve the web app; the embedded runner processes the pipeline in the same process."""
    import uvicorn

    from clameur.web.app import create_app

    with friendly_errors():
        config = settings()
        _engine, factory = open_store(config)
        app = create_app(config, factory)
        background: list[Any] = []
        use_runner = config.pipeline.embedded_runner if runner is None else runner
        with_demo = demo or config.demo.enabled
        if use_runner:
            embedded = _runner(config, factory, with_demo)
            embedded.start_thread()
            background.append(embedded)
            background.append(_streams(config, factory))
        if with_demo:
            from clameur.connectors.demo.workspace import DEMO_WORKSPACE
            from clameur.workspaces.service import get_workspace

            with unit_of_work(factory) as session:
                workspace_id = get_workspace(session, DEMO_WORKSPACE["slug"]).id
            replay = DemoReplay(
                factory, workspace_id, config.demo.posts_per_minute, config.demo.seed
            )
            replay.start_thread()
            background.append(replay)
            console.print(
                f"Demo stream on: about {config.demo.posts_per_minute:g} posts a minute, "
                "a crisis building up over the first minutes."
            )
        bind_host = host or config.web.host
        bind_port = port or config.web.port
        console.print(f"Clameur is at [bold]http://{bind_host}:{bind_port}[/]")
        try:
            uvicorn.run(app, host=bind_host, port=bind_port, log_level="warning")
        finally:
            for part in background:
                part.stop()


def _runner(config: Any, factory: Any, demo: bool) -> Runner:
    """The pipeline's runner with everything it delivers: replies, radar passes, alerts."""
    import httpx

    from clameur.accounts.service import (
        poll_due,
        read_pending_webhooks,
        reply_senders,
        secret_box,
    )
    from clameur.publishing.senders import ConnectorPublisher
    from clameur.radar.channels import make_sender

    base_url = config.web.public_url or f"http://{config.web.host}:{config.web.port}"
    box = secret_box(config)
    senders: dict[str, Any] = dict(reply_senders(factory, box))
    demo_senders = _reply_connectors(factory, config.demo.seed, demo) or {}
    senders.update(demo_senders)
    publisher = ConnectorPublisher(factory, box, fallback=demo_senders.get("demo"))
    return Runner(
        factory,
        config.pipeline.batch_size,
        config.pipeline.poll_seconds,
        connectors=senders,
        listen=lambda: (poll_due(factory, box), read_pending_webhooks(factory, box)),
        radar_every=config.radar.update_seconds,
        alert_sender=make_sender(
            config.mail, httpx.Client(timeout=10.0), config.web.default_locale, base_url
        ),
        keep_5min_days=config.radar.keep_5min_days,
        publisher=publisher,
    )


def _streams(config: Any, factory: Any) -> Any:
    """Live streams of the accounts that stream, run by one process among those sharing the
    database (the others stand by to take over)."""
    from clameur.accounts.service import secret_box
    from clameur.accounts.streams import start_streams

    return start_streams(factory, secret_box(config))


def _reply_connectors(factory: Any, seed: int, demo: bool) -> dict[str, Any] | None:
    """Where replies from the inbox are sent. The demo's brand accounts answer through the demo
    connector (its customers sometimes write back); the real networks' connectors come with
    their own configuration."""
    if not demo:
        return None
    from clameur.connectors.demo.replies import demo_reply_connectors

    return dict(demo_reply_connectors(factory, seed))


def worker_command(
    once: bool = typer.Option(False, "--once", help="Drain the queues, then exit."),
) -> None:
    """Process the pipeline and background jobs in this process (run as many as you like)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with friendly_errors():
        config = settings()
        _engine, factory = open_store(config)
        worker = _runner(config, factory, config.demo.enabled)
        processed = {"posts": 0}

        def count(result) -> None:  # type: ignore[no-untyped-def]
            processed["posts"] += result.imported

        worker.on_batch = count
        if once:
            worker.drain()
            console.print(f"Queues drained: {processed['posts']} new posts stored.")
            return
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        streams = _streams(config, factory)
        console.print(f"Worker {worker.name} started; Ctrl-C to stop.")
        try:
            worker.run_forever()
        except KeyboardInterrupt:
            worker.stop()
        finally:
            streams.stop()
        console.print(f"Worker stopped after storing {processed['posts']} new posts.")
