"""A whole derivation checked line by line under two time limits: one per line and one for the file.

The check runs in a worker process (as :mod:`derive.check.pool`'s do: a memory limit, SIGINT
left to the parent) that reports each line as it is judged. A line that takes longer than its
limit, or a file that uses up its budget, stops the worker (it is killed: SymPy can sit in C code
that no exception reaches); the lines judged so far keep their verdicts, the line being checked
and every later one get ``undecided`` with the reason, and the final result is not compared.
"""

from __future__ import annotations

import multiprocessing
import resource
import signal
import time
from multiprocessing.connection import Connection

from ..errors import DeriveError, UsageError
from ..render import wording
from .pool import DEFAULT_MEMORY_MB
from .steps import split_lines


def _serve(connection: Connection, text: str, problem: str, lang: str, memory_mb: int) -> None:
    """The worker: check the derivation, sending ("lines", judged so far) before each line, then
    ("report", report), or ("error", message) for bad input."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    from .steps import check_steps

    try:
        message = ("report", check_steps(text, problem, lang, lambda done: connection.send(("lines", done))))
    except DeriveError as error:
        message = ("error", str(error))
    except MemoryError:
        message = ("failed", "memory")
    except Exception as error:  # noqa: BLE001 - reported as undecided lines, never a traceback
        message = ("failed", type(error).__name__)
    try:
        connection.send(message)
    except (OSError, ValueError):
        pass


def check_steps_timed(text: str, problem: str, lang: str, timeout: float, budget: float,
                      memory_mb: int = DEFAULT_MEMORY_MB) -> dict:
    """:func:`derive.check.steps.check_steps`'s report, with each line given at most ``timeout``
    seconds and the whole file ``budget`` seconds (getting ready, the entry's derivation
    included, counts against the budget only).

    Raises:
        UsageError: bad input (an unknown entry, too many lines or characters), one line.
    """
    lines = split_lines(text)  # bad input is refused here, before a process starts
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["derive.check.batch"])
    ours, theirs = context.Pipe()
    worker = context.Process(target=_serve, args=(theirs, text, problem, lang, memory_mb), daemon=True)
    start = time.monotonic()
    worker.start()
    theirs.close()
    done, reason = None, "budget"
    try:
        while True:
            left = budget - (time.monotonic() - start)
            wait = left if done is None else min(timeout, left)
            if wait <= 0 or not ours.poll(wait):
                reason = "budget" if wait == left else "line"
                break
            try:
                kind, payload = ours.recv()
            except (EOFError, OSError):
                reason = "failed"
                break
            if kind == "lines":
                done = payload
            elif kind == "report":
                return payload
            elif kind == "error":
                raise UsageError(payload)
            else:
                reason = "failed"
                break
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join(timeout=5)
        ours.close()
    return _stopped(problem, lines, done or [], reason, timeout, budget, lang)


def _stopped(problem: str, lines: list, done: list[dict], reason: str, timeout: float, budget: float,
             lang: str) -> dict:
    """The report of a check that was stopped: the lines judged, then ``undecided`` ones."""
    phrases = wording(lang)["steps"]
    stopped = {"line": phrases["timeout_line"].format(seconds=f"{timeout:g}"),
               "budget": phrases["timeout_budget"].format(seconds=f"{budget:g}"),
               "failed": phrases["check_failed"]}[reason]
    report = [dict(line) for line in done]
    for line in lines[len(done):]:
        feedback = stopped if line is lines[len(done)] else phrases["not_reached"]
        report.append({"n": line.n, "latex": line.latex, "parsed": "", "verdict": "undecided", "rule": None,
                       "feedback": feedback})
    first_error = next((line["n"] for line in report if line["verdict"] == "wrong"), None)
    return {"problem": problem, "lines": report, "final": {"target": None, "verdict": "undecided"},
            "first_error": first_error, "stopped": stopped}
