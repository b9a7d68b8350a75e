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
from .lines import split_lines
from .pool import DEFAULT_MEMORY_MB


def _serve(connection: Connection, text: str, problem: str, lang: str, memory_mb: int) -> None:
    """The worker: check the derivation, sending ("lines", judged so far, the time) before each line,
    then ("report", report, the time), or ("error", message, the time) for bad input."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    from .steps import check_steps

    try:
        message = ("report", check_steps(text, problem, lang,
                                         lambda done: connection.send(("lines", done, time.monotonic()))))
    except DeriveError as error:
        message = ("error", str(error))
    except MemoryError:
        message = ("failed", "memory")
    except Exception as error:  # noqa: BLE001 - reported as undecided lines, never a traceback
        message = ("failed", type(error).__name__)
    try:
        connection.send((*message, time.monotonic()))
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
    # A line's time runs from the worker's report of the line before to its next report (the
    # worker's clock, the same monotonic clock: a parent that was not scheduled does not count).
    done, since, reason = None, None, None
    try:
        while reason is None:
            budget_left = start + budget - time.monotonic()
            wait = budget_left if since is None else min(since + timeout - time.monotonic(), budget_left)
            if wait <= 0 or not ours.poll(wait):
                reason = "budget" if wait >= budget_left else "line"
                break
            try:
                kind, *payload = ours.recv()
            except (EOFError, OSError):
                kind, payload = "failed", []
            stamp = payload[-1] if payload else time.monotonic()
            if stamp - start > budget:
                reason = "budget"
            elif since is not None and stamp - since > timeout:
                reason = "line"
            elif kind == "lines":
                done, since = payload[0], stamp
            elif kind == "report":
                return payload[0]
            elif kind == "error":
                raise UsageError(payload[0])
            else:
                reason = "failed"
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
