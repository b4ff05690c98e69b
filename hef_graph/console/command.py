"""``hef console``: start the browser console (the CLI registers this function; its imports wait for the call)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Annotated

import typer

log = logging.getLogger(__name__)


def console_command(
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1 unless --host).")] = 8700,
    host: Annotated[str, typer.Option(help="Address to bind; another than loopback needs HEF_AUTH_SECRET.")] = (
        "127.0.0.1"
    ),
    server: Annotated[
        str | None, typer.Option(help="A LangGraph server's URL (langgraph dev); default: the graph in process.")
    ] = None,
    packets: Annotated[
        Path | None, typer.Option(help="Folder of rating packets (hef rate-export folders) for /rate.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="In process: where threads and memories live (default: per-user folder).")
    ] = None,
    llm: Annotated[str | None, typer.Option(help="In process: the LLM (llama.cpp:qwen1.5b, smollm2, ...).")] = None,
) -> None:
    """Open the browser console: chat with each turn's trace, the reviewers' inbox, the raters' pages."""
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("sse_starlette") is None:
        typer.echo("error: hef console needs its extra: pip install 'hef-graph[console]'", err=True)
        raise typer.Exit(2)
    import uvicorn

    from hef_graph.auth.config import AuthSetupError
    from hef_graph.console.app import backend_for, build_app
    from hef_graph.console.gate import gate_for
    from hef_graph.console.settings import ConsoleSettings

    try:
        settings = ConsoleSettings(host=host, port=port, server=server, packets=packets, data_dir=data_dir, llm=llm)
        gate = gate_for(settings)
        app = build_app(settings, gate, backend_for(settings))
    except (ValueError, AuthSetupError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    log.warning("HEF console on http://%s:%d/ (%s)", host, port, server or "the graph in this process")
    uvicorn.run(app, host=host, port=port, log_level="warning")
