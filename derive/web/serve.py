"""``python -m derive serve``: the web page and its JSON API on uvicorn, until Ctrl-C."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from ..errors import UsageError


def parser() -> argparse.ArgumentParser:
    """The options of ``derive serve``."""
    from ..check.pool import DEFAULT_TIMEOUT
    from ..commands.options import command_parser, job_count, positive_seconds

    result = command_parser("serve", "Serve the page where students check their answers (Ctrl-C stops it).",
                            "serve --sheet examples/questions-en.toml --port 8731",
                            "serve --host 0.0.0.0 --port 8000 --jobs 4 --log checks.jsonl")
    result.add_argument("--sheet", action="append", default=[], metavar="SPEC.toml",
                        help="a sheet whose problems are listed and checkable as SHEET#N; repeatable")
    result.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    result.add_argument("--port", type=_port, default=8000, help="the port (default 8000; 0: any free one)")
    result.add_argument("--jobs", type=job_count, default=2, help="checks at once (worker processes, default 2)")
    result.add_argument("--timeout", type=positive_seconds("check.timeout"), default=DEFAULT_TIMEOUT,
                        help="seconds per check (default 5)")
    result.add_argument("--rate", type=_rate, default=30,
                        help="checks a minute from one client (default 30; 0: no limit)")
    result.add_argument("--log", metavar="FILE",
                        help="append one JSON line per check: time, problem, target, verdict, ms")
    return result


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port (0 to 65535)")
    return int(text)


def _rate(text: str) -> int:
    if not text.isdigit() or int(text) > 1_000_000:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number from 0 to 1,000,000")
    return int(text)


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket (its port known when ``port`` is 0); UsageError if it cannot be had."""
    try:
        family, kind, proto = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][:3]
        sock = socket.socket(family, kind, proto)  # proto TCP: asyncio then sets TCP_NODELAY (no 40 ms ACK waits)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(128)
    return sock


def main(argv: list[str]) -> int:
    """Serve until interrupted; prints ``serving on http://HOST:PORT/`` once it listens."""
    import uvicorn

    from .api import Service
    from .app import create_app

    options = parser().parse_args(argv)
    for spec in options.sheet:
        if not Path(spec).is_file():
            raise UsageError(f"--sheet: no file '{spec}'")
    if options.log is not None:
        try:
            Path(options.log).open("a", encoding="utf-8").close()
        except OSError as error:
            raise UsageError(f"--log: cannot write '{options.log}': {error.strerror or error}") from None
    sock = _bind(options.host, options.port)
    service = Service([Path(s) for s in options.sheet], options.jobs, options.timeout,
                      Path(options.log) if options.log else None)
    try:
        app = create_app(service, options.rate)
        config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False,
                                timeout_graceful_shutdown=5)
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"derive: serving on http://{shown}:{port}/ (Ctrl-C stops)", flush=True)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        service.close()
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
