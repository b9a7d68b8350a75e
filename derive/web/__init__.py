"""The web page: ``python -m derive serve`` (Starlette on uvicorn).

- :mod:`derive.web.api`: :class:`~derive.web.api.Service`, the checks a request asks for, run in the
  worker pool of :mod:`derive.check.pool` (the same checker as ``check`` and ``check-steps``);
- :mod:`derive.web.app`: the ASGI application: the JSON API, the body-size and rate limits, errors
  as JSON, the page's routes (:mod:`derive.web.page`) and its static files;
- :mod:`derive.web.serve`: the command line, which prints the address and serves until Ctrl-C.
"""
