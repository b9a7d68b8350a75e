"""Grading a class: requests from JSON lines, checked in worker processes, written in order.

Input lines are ``{"id", "problem", "target", "answer"}`` (or ``"expected"`` instead of problem
and target; optional ``"points"``, ``"lang"``, ``"assume"``, ``"log_base"``, with ``"expected"``
``"notation"``, and for a network ``"convention"``), or ``{"id", "problem",
"steps": [...]}``, a whole derivation checked line by line. A line that cannot be decoded, parsed,
validated or checked gets the verdict ``error`` with a one-line reason, and the batch goes on.
Identical requests (every field but ``id`` and ``points`` equal) are checked once.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from .. import limits
from ..errors import DeriveError
from ..render import LANGUAGES
from .decide import VERDICTS, check, quoted

FIELDS = ("problem", "target", "verdict", "expected", "parsed", "feedback", "certificate")
STEP_FIELDS = ("lines", "first_error")
FORMATS = ("jsonl", "csv", "gradescope")
#: The fields a grade line may have; any other is an error naming it.
KEYS = ("id", "problem", "target", "expected", "answer", "points", "lang", "assume", "log_base", "steps",
        "convention", "notation")
_STEP_KEYS = ("id", "problem", "steps", "points", "lang")
#: Limits of one batch (see derive.limits): the whole input's lines are checked before any work
#: starts; a line over the others gets the verdict error.
MAX_LINE_BYTES, MAX_DEPTH, MAX_POINTS = (limits.value(key) for key in ("grade.line", "grade.depth",
                                                                        "grade.points"))
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def run_request(request: Mapping) -> dict:
    """Check one request in this process; never raises for bad input (verdict ``error``)."""
    start = time.perf_counter()
    if "steps" in request:
        result = _run_steps(request)
        result["ms"] = round((time.perf_counter() - start) * 1000, 2)
        return result
    if "value" in request:  # a number against a variant's value (grade --variants): its tolerance or digits
        from .variant_grade import judge_number

        return {**judge_number(request), "ms": round((time.perf_counter() - start) * 1000, 2)}
    try:
        answer = request.get("answer")
        if not isinstance(answer, str):
            raise DeriveError("'answer' must be a string")
        for key in ("problem", "target", "expected", "lang", "convention", "notation"):
            if key in request and not isinstance(request[key], str):
                raise DeriveError(f"'{key}' must be a string")
        if request.get("log_base", "e") not in ("e", 10, "10"):
            raise DeriveError("'log_base' must be \"e\" or 10")
        result = check(answer, request.get("problem"), request.get("target"), request.get("expected"),
                       lang=request.get("lang", "en"), assume=tuple(request.get("assume", ())),
                       log_base_e=request.get("log_base", "e") == "e", convention=request.get("convention"),
                       notation=request.get("notation"))
    except DeriveError as error:
        result = {"problem": request.get("problem"), "target": request.get("target"), "verdict": "error",
                  "expected": "", "parsed": "", "feedback": str(error), "certificate": None}
    except MemoryError:
        raise  # the pool's worker reports it
    except Exception as error:  # noqa: BLE001 - SymPy fails in many ways on strange input: not judged, no traceback
        result = failed(request, error)
    result["ms"] = round((time.perf_counter() - start) * 1000, 2)
    return result


def failed(request: Mapping, error: BaseException) -> dict:
    """The reply to a request whose check failed inside (an exception, not bad input): verdict
    ``error`` with one line naming the answer (or the derivation) and the failure in words (never the
    exception, never ``timeout``), in the request's language."""
    from ..render import wording
    from .timed import failure_reason

    lang = request.get("lang") if request.get("lang") in LANGUAGES else "en"
    words, answer, reason = wording(lang)["check"], request.get("answer"), failure_reason(error, lang)
    feedback = words["failed_answer"].format(answer=quoted(answer), reason=reason) if isinstance(answer, str) \
        else words["failed_derivation"].format(problem=quoted(str(request.get("problem")), 40), reason=reason)
    return {"problem": request.get("problem"), "target": request.get("target"), "verdict": "error",
            "expected": "", "parsed": "", "certificate": None, **({"lines": [], "first_error": None}
                                                                  if "steps" in request else {}),
            "feedback": feedback}


def steps_text(steps) -> str:
    """A derivation given as a list of lines, or as one LaTeX string."""
    if isinstance(steps, str):
        return steps
    if isinstance(steps, list) and all(isinstance(s, str) for s in steps):
        return "\n".join(steps)
    raise DeriveError("'steps' must be a list of strings or one string")


def _run_steps(request: Mapping) -> dict:
    """A derivation checked line by line, as a grading result with its per-line verdicts."""
    from .timed import check_steps_guarded

    problem = request.get("problem")
    try:
        if not isinstance(problem, str):
            raise DeriveError("'problem' must be a string")
        report = check_steps_guarded(steps_text(request.get("steps")), problem, request.get("lang", "en"))
        if request.get("report"):
            return report
    except DeriveError as error:
        return {"problem": problem, "target": None, "verdict": "error", "expected": "", "parsed": "",
                "feedback": str(error), "certificate": None, "lines": [], "first_error": None}
    except MemoryError:
        raise  # the pool's worker reports it
    except Exception as error:  # noqa: BLE001 - a failure inside the check: verdict error, no traceback
        return failed(request, error)
    return summarize_steps(report, request.get("lang", "en"))


def summarize_steps(report: Mapping, lang: str) -> dict:
    """The grading fields of a line-by-line report: correct when no line is wrong, unreadable,
    undecided or ``error`` and the final result is right; ``error`` when the checker failed on a
    line (or on the final result) and no line is wrong or unreadable."""
    from ..audit.judge import sentences
    from ..render import wording

    phrases = wording(lang)["steps"]
    lines, final = report["lines"], report["final"]
    bad = [line for line in lines if line["verdict"] in ("wrong", "unreadable", "undecided", "error")]
    failed = final["verdict"] == "error" or any(line["verdict"] == "error" for line in lines)
    verdict = "correct" if not bad and final["verdict"] == "correct" else "incorrect"
    if failed and not any(line["verdict"] in ("wrong", "unreadable") for line in lines):
        verdict = "error"
    feedback = [phrases["first_error"].format(n=bad[0]["n"], feedback=bad[0]["feedback"])] if bad else []
    feedback.append(final_sentence(final, phrases))
    skipped = [str(line["n"]) for line in lines if line["verdict"] == "skips"]
    if skipped:
        feedback.append(phrases["skipped"].format(lines=", ".join(skipped)))
    return {"problem": report["problem"], "target": final["target"], "verdict": verdict, "expected": "",
            "parsed": lines[-1]["parsed"] if lines else "", "feedback": sentences(feedback, lang),
            "certificate": None, "lines": lines, "first_error": report["first_error"]}


def final_sentence(final: Mapping, phrases: Mapping) -> str:
    """The final result of a line-by-line report in words; a last line that reaches none of the
    problem's results names them (``results``) rather than a target."""
    results = ", ".join(final.get("results", ())) or "-"
    if final["target"] is None and final["verdict"] == "incorrect":
        return phrases["final_unreached"].format(results=results)
    return phrases[f"final_{final['verdict']}"].format(target=final["target"] or "-", results=results)


def _escaped(text: str) -> str:
    """Text with its lone surrogates written as escapes (``\\ud800``), so that it encodes as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _shown_id(value) -> str | int | None:
    """The id a result carries: a string (escaped if it is not valid Unicode), an integer, or None."""
    if isinstance(value, str):
        return _escaped(value) if _SURROGATE.search(value) else value
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    return isinstance(value, list) and any(_has_surrogate(item) for item in value)


def _points_error(points) -> str | None:
    if isinstance(points, bool) or not isinstance(points, (int, float)):
        return f"'points' must be a number, not {type(points).__name__}"
    if not 0 <= points <= MAX_POINTS:  # also false for NaN, infinities and 400-digit integers
        return f"'points' must be a finite number from 0 to {MAX_POINTS:,} (limit grade.points)"
    return None


def _strings_error(request: Mapping, key: str) -> str | None:
    value = request.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return f"'{key}' must be a list of strings"
    return None


def field_error(request: Mapping, known: tuple[str, ...], label: str = "known") -> str | None:
    """The first field of a grade line that no line may have: one not in ``known``, a lone
    surrogate, an ``id`` neither a string nor an integer; None if there is none."""
    unknown = [key for key in request if key not in known]
    if unknown:
        return f"unknown field '{quoted(unknown[0], 40)}' ({label}: {', '.join(known)})"
    for key, value in request.items():
        if _has_surrogate(value):
            return f"'{key}' is not valid Unicode (a lone surrogate)"
    if _shown_id(request.get("id")) is None and request.get("id") is not None:
        return "'id' must be a string or an integer"
    return None


def invalid(request: Mapping) -> str | None:
    """Why a decoded grade line is not a request (naming the field), or None when it is one."""
    if reason := field_error(request, KEYS):
        return reason
    for key in ("problem", "target", "expected", "answer", "convention", "notation"):
        if key in request and not isinstance(request[key], str):
            return f"'{key}' must be a string, not {type(request[key]).__name__}"
    if "notation" in request and ("expected" not in request or "problem" in request):
        return "'notation' goes with 'expected' (and no 'problem')"
    if "lang" in request and request["lang"] not in LANGUAGES:
        return f"'lang' must be one of {', '.join(LANGUAGES)}"
    if "points" in request and (reason := _points_error(request["points"])):
        return reason
    if "steps" in request:
        extra = [key for key in request if key not in _STEP_KEYS]
        if extra:
            return f"'{extra[0]}' does not go with 'steps'"
        if "problem" not in request:
            return "'steps' needs 'problem'"
        steps = request["steps"]
        return None if isinstance(steps, str) else _strings_error(request, "steps")
    if request.get("log_base", "e") not in ("e", 10, "10"):
        return "'log_base' must be \"e\" or 10"
    if reason := _strings_error(request, "assume"):
        return reason
    if "answer" not in request or ("expected" not in request and not {"problem", "target"} <= request.keys()):
        return "needs 'answer' and 'problem' + 'target' (or 'expected')"
    return None


def _depth(text: str) -> int:
    """How deeply the JSON arrays and objects of a line nest (strings left out)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _decode(line: bytes | str) -> str:
    """One line as text, within the limits; DeriveError says why not."""
    if len(line) > MAX_LINE_BYTES:
        raise DeriveError(f"longer than {MAX_LINE_BYTES:,} bytes (limit grade.line)")
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as error:
            where = f"byte 0x{line[error.start]:02x} at column {error.start + 1}"
            raise DeriveError(f"not UTF-8 text ({where})") from None
    if _depth(line) > MAX_DEPTH:
        raise DeriveError(f"nested deeper than {MAX_DEPTH} levels (limit grade.depth)")
    return line


def parse_line(line: bytes | str, number: int, validate: Callable[[dict], str | None] = invalid) -> dict:
    """One input line as a request, or an ``{"id", "error", "points"}`` marker saying why it is not one
    (``validate``: why a decoded line is not a request, or None; ``grade --variants`` has its own)."""
    try:
        request = json.loads(_decode(line))
    except DeriveError as error:
        return {"id": None, "error": f"line {number}: {error}"}
    except json.JSONDecodeError as error:
        return {"id": None, "error": f"line {number}: not JSON ({error.msg} at column {error.colno})"}
    except (ValueError, RecursionError) as error:  # an integer of 5,000 digits, nesting the scan missed
        return {"id": None, "error": f"line {number}: not JSON ({quoted(str(error), 80)})"}
    if not isinstance(request, dict):
        return {"id": None, "error": f"line {number}: not a JSON object"}
    try:
        reason = validate(request)
    except Exception as error:  # noqa: BLE001 - a validation gap must not end the batch either
        reason = f"could not be read ({type(error).__name__})"
    if reason:
        points = request.get("points", 1)
        return {"id": _shown_id(request.get("id")), "error": f"line {number}: {reason}",
                "points": 1 if _points_error(points) else points}
    return request


def read_requests(data: bytes | Iterable[str], validate: Callable[[dict], str | None] = invalid) -> list[dict]:
    """Every non-blank line of a file (bytes) or of a list of lines, parsed (:func:`parse_line`); more
    lines than the limit ``grade.lines`` is a LimitError before any is parsed."""
    if isinstance(data, bytes):
        limits.check("grade.lines", data.count(b"\n") + (not data.endswith(b"\n")), "the input")
        data = data.removeprefix(codecs.BOM_UTF8).split(b"\n")
    return [parse_line(line, n, validate) for n, line in enumerate(data, 1) if line.strip()]


def _error_result(marker: Mapping) -> dict:
    return {"id": marker["id"], "problem": None, "target": None, "verdict": "error", "expected": "",
            "parsed": "", "feedback": marker["error"], "certificate": None, "ms": 0.0,
            "points": marker.get("points", 1)}


class Batch:
    """The requests of one batch and the distinct checks they need (each asked once).

    Args:
        requests: parsed lines (:func:`read_requests`), error markers included.
        lang: the feedback language of a line that does not say its own.
    """

    def __init__(self, requests: list[dict], lang: str = "en"):
        self.requests, self.keys, self.checks = requests, [], {}
        for request in requests:
            if "error" in request:
                self.keys.append(None)
                continue
            job = {"lang": lang, **{k: v for k, v in request.items() if k not in ("id", "points")}}
            key = json.dumps(job, sort_keys=True, ensure_ascii=False)
            self.checks.setdefault(key, job)
            self.keys.append(key)

    def run(self, pool, progress: bool = False) -> list[dict]:
        """Check each distinct request once in ``pool``; one result per request, in input order."""
        jobs = [(job, _budget(job, pool.timeout)) for job in self.checks.values()]
        replies = pool.map(jobs)
        if progress:
            from tqdm import tqdm

            replies = tqdm(replies, total=len(jobs), file=sys.stderr, unit="check")
        fields = {key: _fields(job, reply, seconds)
                  for (key, job), (_, seconds), reply in zip(self.checks.items(), jobs, replies, strict=True)}
        return [_error_result(request) if key is None
                else {"id": request.get("id"), **fields[key], "points": request.get("points", 1)}
                for request, key in zip(self.requests, self.keys, strict=True)]


def _budget(job: Mapping, timeout: float) -> float:
    """A derivation gets the time of one check per line (at most 30 lines' worth)."""
    if "steps" not in job:
        return timeout
    steps = job["steps"]
    count = len(steps) if isinstance(steps, list) else steps.count("\n") + 1
    return timeout * min(max(count, 1), 30)


#: Why a worker's reply is missing other than time: a failure inside the check (verdict error).
_FAILURES = {"memory": MemoryError("it needs more memory than a worker may use"),
             "worker": ChildProcessError("the worker checking it stopped")}


def _fields(job: Mapping, reply: Mapping, seconds: float) -> dict:
    """The written fields of one check's reply."""
    result = {k: reply.get(k) for k in FIELDS}
    if reply.get("verdict") == "timeout" and reply.get("reason") in _FAILURES:  # not an overrun of the time
        result.update(failed(job, _FAILURES[reply["reason"]]))
    elif reply.get("verdict") == "timeout" and not reply.get("feedback"):
        from ..render import wording

        result.update(problem=job.get("problem"), target=job.get("target"), expected="", parsed="",
                      feedback=wording(job["lang"])["check"]["timeout"].format(seconds=f"{seconds:g}"))
    steps = {k: reply.get(k, result.get(k)) for k in STEP_FIELDS} if "steps" in job else {}
    return {**result, **steps, "ms": reply.get("ms")}


def summary(results: list[dict], seconds: float) -> str:
    """One line: how many answers got each verdict, and the wall time."""
    counts = Counter(r["verdict"] for r in results)
    parts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    answers = "1 answer" if len(results) == 1 else f"{len(results)} answers"
    return f"graded {answers} in {seconds:.1f} s: {parts or 'nothing'}"


def write(results: list[dict], fmt: str) -> str:
    """The results as JSON lines, CSV (points and maximum) or a Gradescope results.json; always
    valid JSON (no NaN or infinity) and valid UTF-8."""
    if fmt == "jsonl":
        text = "".join(json.dumps({k: v for k, v in r.items() if k != "points"}, ensure_ascii=False,
                                  allow_nan=False) + "\n" for r in results)
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["id", "problem", "target", "verdict", "points", "max_points", "ms", "feedback"])
        for r in results:
            awarded = r["points"] if r["verdict"] == "correct" else 0
            writer.writerow([r["id"], r["problem"], r["target"], r["verdict"], awarded, r["points"], r["ms"],
                             r["feedback"]])
        text = buffer.getvalue()
    else:
        tests = [{"name": f"{r['id']}: {r['problem'] or 'expression'}/{r['target'] or ''}".rstrip("/"),
                  "score": r["points"] if r["verdict"] == "correct" else 0, "max_score": r["points"],
                  "status": "passed" if r["verdict"] == "correct" else "failed",
                  "output": f"{r['verdict']}: {r['feedback']}"} for r in results]
        text = json.dumps({"score": sum(t["score"] for t in tests), "tests": tests}, ensure_ascii=False,
                          indent=2, allow_nan=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate that validation let through: written as its escape
        text = _escaped(text)
    return text
