"""A whole derivation checked line by line: a line that fails inside is ``error``, and under two
time limits, one per line and one for the file.

A failure inside the checker (an exception while one line is judged: SymPy, the reader, the
verifier) is that line's verdict ``error``, with the exception in one line as the reason; the
lines after it are judged on, as after a line that could not be read (:func:`check_steps_guarded`,
used in process too). A failure is never reported as a timeout.

The check runs in a worker process (as :mod:`derive.check.pool`'s do: a memory limit, SIGINT
left to the parent) that reports each line as it is judged. A line that takes longer than its
limit, or a file that uses up its budget, stops the worker (it is killed: SymPy can sit in C code
that no exception reaches); the lines judged so far keep their verdicts, the line being checked
and every later one get ``undecided`` with the reason, and the final result is not compared. A
worker that ends by itself (a signal, memory) gives the line being checked ``error``.
"""

from __future__ import annotations

import multiprocessing
import resource
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from ..catalog import teacher
from ..errors import UsageError
from ..render import wording
from .lines import Line, split_lines
from .pool import DEFAULT_MEMORY_MB


def failure_kind(error: BaseException) -> str:
    """What kind of failure inside the checker an exception is, as a key of the wording's
    ``failure_*`` phrases: ``memory``, ``depth`` (a recursion too deep), ``worker`` (the process
    checking stopped), else ``internal``."""
    if isinstance(error, MemoryError):
        return "memory"
    if isinstance(error, RecursionError):
        return "depth"
    if isinstance(error, ChildProcessError):
        return "worker"
    return "internal"


def failure_reason(error: BaseException, lang: str = "en") -> str:
    """A failure inside the checker in words for a report, never the exception itself (a Python
    name and message mean nothing to a student or a teacher)."""
    return wording(lang)["steps"][f"failure_{failure_kind(error)}"]


def check_steps_guarded(text: str, problem: str, lang: str = "en",
                        progress: Callable[[list], None] | None = None) -> dict:
    """:func:`derive.check.steps.check_steps`'s report, where an exception while one line is judged
    makes that line ``error`` (the exception in one line) and the lines after it are judged on
    (a fresh check of those lines: the line after is not judged against the one that failed).
    An exception in the final comparison makes the final verdict ``error``; one while getting the
    entry ready makes every line ``error``. ``progress`` is called as check_steps calls it.

    Raises:
        UsageError: bad input (an unknown entry, too many lines or characters), before any line.
    """
    from .steps import check_steps

    phrases = wording(lang)["steps"]
    judged: list[dict] = []
    rest, final = split_lines(text), None
    while rest and final is None:
        seen: list[list[dict]] = []

        def relay(done: list, rest: list[Line] = rest, seen: list = seen, judged: list = judged) -> None:
            seen[:] = [_numbered(done, rest)]
            if progress is not None:
                progress(judged + seen[0])

        resumed = bool(judged)
        try:
            report = check_steps(_joined(rest) if resumed else text, problem, lang, relay)
        except Exception as error:  # a failure inside is a verdict, never a traceback
            if isinstance(error, UsageError) and not seen and not resumed:
                raise  # bad input: an unknown entry
            done = seen[0] if seen else []
            failing = rest[len(done):len(done) + 1] if seen else rest  # before any line: every line
            failed = [_error(line, phrases, error, lang) for line in failing]
            judged += _resumed(done, rest, phrases, resumed) + failed
            rest = rest[len(done) + len(failed):]
            if progress is not None:
                progress(judged)  # the next line's time runs from here
            if not rest:
                final = {"target": None, "verdict": "error"}
            continue
        judged += _resumed(_numbered(report["lines"], rest), rest, phrases, resumed)
        final = report["final"]
    if progress is not None:
        progress(judged)
    first_error = next((line["n"] for line in judged if line["verdict"] == "wrong"), None)
    return {"problem": problem, "lines": judged, "final": final, "first_error": first_error}


def _joined(lines: list[Line]) -> str:
    """The text of some lines of a derivation, as written: split again, it gives the same lines."""
    text = "\n".join(line.latex for line in lines)
    if [line.parts for line in split_lines(text)] != [line.parts for line in lines]:
        raise RuntimeError("the lines after a failed line could not be separated again")
    return text


def _numbered(done: list[dict], lines: list[Line]) -> list[dict]:
    """The lines of a check of ``lines`` alone, numbered as in the whole derivation."""
    return [{**line, "n": lines[line["n"] - 1].n} for line in done]


def _error(line: Line, phrases: dict, error: BaseException, lang: str) -> dict:
    """A line the checker failed on."""
    return {"n": line.n, "latex": line.latex, "parsed": "", "verdict": "error", "rule": None,
            "feedback": phrases["error"].format(reason=failure_reason(error, lang)), "reason": line.reason}


def _resumed(done: list[dict], rest: list[Line], phrases: dict, resumed: bool) -> list[dict]:
    """The lines of a check resumed after a failed line: a first line that continues the failed
    one (``= D``) is not judged, and says why."""
    if resumed and done and done[0]["verdict"] == "start" and not rest[0].parts[0]:
        done[0] = {**done[0], "feedback": phrases["after_error"]}
    return done


def _serve(connection: Connection, text: str, problem: str, lang: str, memory_mb: int, catalog: str = "") -> None:
    """The worker: check the derivation, sending ("lines", judged so far, the time) before each line,
    then ("report", report, the time), or ("error", message, the time) for bad input; ``catalog``: the
    command's catalog files (:func:`derive.catalog.teacher.listed`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    teacher.adopt(catalog)
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    try:
        message = ("report", check_steps_guarded(
            text, problem, lang, lambda done: connection.send(("lines", done, time.monotonic()))))
    except UsageError as error:
        message = ("error", str(error))
    except Exception as error:  # noqa: BLE001 - reported as an error line, never a traceback
        message = ("failed", failure_reason(error, lang))
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
    worker = context.Process(target=_serve, args=(theirs, text, problem, lang, memory_mb, teacher.listed()),
                             daemon=True)
    start = time.monotonic()
    worker.start()
    theirs.close()
    # A line's time runs from the worker's report of the line before to its next report (the
    # worker's clock, the same monotonic clock: a parent that was not scheduled does not count).
    done, since, reason, detail = None, None, None, ""
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
                kind, payload = "ended", []
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
                reason, detail = "failed", payload[0] if kind == "failed" else ""
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join(timeout=5)
        ours.close()
    if reason == "failed" and not detail:
        detail = _ending(worker.exitcode)
    return _stopped(problem, lines, done or [], reason, timeout, budget, lang, detail)


def _ending(code: int | None) -> str:
    """How a worker that sent no report ended: a signal (``SIGKILL``: the system's memory killer,
    a crash in C) or an exit status."""
    if code is not None and code < 0:
        try:
            return f"the checking process was stopped by {signal.Signals(-code).name}"
        except ValueError:
            return f"the checking process was stopped by signal {-code}"
    return f"the checking process ended (exit status {code})"


def _stopped(problem: str, lines: list, done: list[dict], reason: str, timeout: float, budget: float,
             lang: str, detail: str = "") -> dict:
    """The report of a check that was stopped: the lines judged, then the line being judged
    (``undecided`` at a time limit, ``error`` where the worker failed), then ``undecided`` ones."""
    phrases = wording(lang)["steps"]
    stopped = {"line": phrases["timeout_line"].format(seconds=f"{timeout:g}"),
               "budget": phrases["timeout_budget"].format(seconds=f"{budget:g}"),
               "failed": phrases["check_failed"].format(reason=detail)}[reason]
    report = [dict(line) for line in done]
    for line in lines[len(done):]:
        current = line is lines[len(done)]
        verdict = "error" if current and reason == "failed" else "undecided"
        report.append({"n": line.n, "latex": line.latex, "parsed": "", "verdict": verdict, "rule": None,
                       "feedback": stopped if current else phrases["not_reached"], "reason": line.reason})
    first_error = next((line["n"] for line in report if line["verdict"] == "wrong"), None)
    return {"problem": problem, "lines": report, "final": {"target": None, "verdict": "undecided"},
            "first_error": first_error, "stopped": stopped}
