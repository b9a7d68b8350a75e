"""The ASGI application of ``derive serve``: the JSON API, its limits, and the page.

- ``GET /api/problems?lang=en|zh``: ``{"problems": [...]}`` (:meth:`derive.web.api.Service.problems`);
- ``POST /api/check``: ``{"problem", "target", "answer"}`` or ``{"expected", "answer"}`` (optional
  ``lang``, ``assume``, ``log_base``, ``convention``, ``notation`` as ``grade`` lines have them): the
  fields of ``check --json``;
- ``POST /api/check-steps``: ``{"problem", "derivation"}`` (optional ``lang``): the fields of
  ``check-steps --json`` with the summary ``verdict`` and ``feedback``.

Every POST (the page's form posts too) goes through :class:`Guard`: a body over :data:`MAX_BODY`
bytes is refused with 413 (by its Content-Length, and by the bytes that actually came), and more
than ``rate`` posts a minute from one client with 429 and ``Retry-After``. A bad request is a JSON
``{"error": "..."}`` with a 4xx status; a failure inside is ``{"error": "internal error"}`` with 500
and one log line, never a traceback.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import time
from collections import deque
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from .api import ApiError, Service

#: The largest request body, in bytes.
MAX_BODY = 20_000
#: Seconds over which a client's posts are counted for the rate limit.
WINDOW = 60.0
STATIC = Path(__file__).parent / "static"
_ROUTES = ("/", "/api/check", "/api/check-steps", "/api/problems")
#: Sent with every answer: nothing but the server's own scripts, styles, fonts and requests run
#: (an answer or a title that slipped through escaping still cannot run a script); KaTeX needs
#: inline style attributes.
HEADERS = [(b"content-security-policy", (b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            b"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
            b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'")),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
log = logging.getLogger("derive.web")


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _send(response, scope, receive, send) -> None:
    await response(scope, receive, send)


class Guard:
    """ASGI middleware over every request: a failure inside becomes a JSON 500 and one log line;
    a POST is refused over the size (413) or over ``rate`` a minute from its client (429; 0: no
    limit), and its body, read whole here, is handed on."""

    def __init__(self, app, rate: int = 30, limit: int = MAX_BODY):
        self.app, self.rate, self.limit = app, rate, limit
        self._seen: dict[str, deque] = {}
        self._swept = time.monotonic()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        try:
            if scope["method"] == "POST":
                refusal, receive = await self._admit(scope, receive)
                if refusal is not None:
                    await _send(refusal, scope, receive, tracked)
                    return
            await self.app(scope, receive, tracked)
        except Exception as error:  # noqa: BLE001 - never a traceback to the client: a JSON error, one log line
            path = scope.get("path", "")  # a known route's path; never other text the client sent
            log.error("derive serve: %s %s failed: %s", scope["method"], path if path in _ROUTES else "(a path)",
                      type(error).__name__)
            if not started:
                await _send(_error(500, "internal error"), scope, receive, send)

    async def _admit(self, scope, receive):
        """(a refusal or None, the receive channel that replays the body read)."""
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                return _error(400, "Content-Length is not a number"), receive
            if int(length) > self.limit:
                return _error(413, f"the body is over {self.limit:,} bytes"), receive
        if (wait := self._over_rate(scope)) is not None:
            return _error(429, "too many checks: wait a minute", {"Retry-After": str(wait)}), receive
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return _error(400, "the request ended early"), receive
            body += message.get("body", b"")
            if len(body) > self.limit:
                return _error(413, f"the body is over {self.limit:,} bytes"), receive
            more = message.get("more_body", False)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}
        return None, replay

    def _over_rate(self, scope) -> int | None:
        """Seconds to wait when the client has posted ``rate`` times within the window, else None
        (the post is counted). Clients are told apart by address only, kept in memory."""
        if self.rate <= 0:
            return None
        now = time.monotonic()
        if now - self._swept > WINDOW:  # forget clients that have been quiet for a window
            self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] < WINDOW}
            self._swept = now
        client = (scope.get("client") or ("?", 0))[0]
        times = self._seen.setdefault(client, deque())
        while times and now - times[0] >= WINDOW:
            times.popleft()
        if len(times) >= self.rate:
            return max(1, math.ceil(WINDOW - (now - times[0])))
        times.append(now)
        return None


async def _json_body(request: Request):
    body = await request.body()
    from ..check.batch import _decode

    try:
        return json.loads(_decode(body))
    except Exception as error:  # noqa: BLE001 - not UTF-8, not JSON, too deep, a 5,000-digit number
        from ..check.decide import quoted

        reason = error.msg if isinstance(error, json.JSONDecodeError) else quoted(str(error), 80)
        raise ApiError(400, f"the body is not a JSON request ({reason})") from None


def api_routes(service: Service) -> list[Route]:
    """The JSON API's routes."""

    async def problems(request: Request) -> JSONResponse:
        import anyio.to_thread

        lang = request.query_params.get("lang", "en")
        return JSONResponse({"problems": await anyio.to_thread.run_sync(service.problems, lang)})

    def answering(method):
        async def endpoint(request: Request) -> JSONResponse:
            try:
                return JSONResponse(await method(await _json_body(request)))
            except ApiError as error:
                return _error(error.status, error.message)
        return endpoint

    return [Route("/api/problems", problems, methods=["GET"]),
            Route("/api/check", answering(service.check), methods=["POST"]),
            Route("/api/check-steps", answering(service.check_steps), methods=["POST"])]


def _page_routes(service: Service) -> list:
    """The page's routes (:mod:`derive.web.page`), if that module is there."""
    if importlib.util.find_spec("derive.web.page") is None:
        return []
    from .page import routes

    return list(routes(service))


def create_app(service: Service, rate: int = 30) -> Starlette:
    """The application: the API, the page, ``/static``; every request through :class:`Guard`."""
    routes = api_routes(service) + _page_routes(service)
    if STATIC.is_dir():
        from starlette.staticfiles import StaticFiles

        routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))

    async def not_found(request: Request, exc) -> JSONResponse:
        return _error(exc.status_code, getattr(exc, "detail", "") or "not found")

    return Starlette(routes=routes, middleware=[Middleware(Guard, rate=rate)],
                     exception_handlers={404: not_found, 405: not_found})
