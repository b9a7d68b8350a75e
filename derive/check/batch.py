"""Grading a class: requests from JSON lines, checked in worker processes, written in order.

Input lines are ``{"id", "problem", "target", "answer"}`` (or ``"expected"`` instead of problem
and target; optional ``"points"``, ``"lang"``, ``"assume"``, ``"log_base"``), or ``{"id", "problem",
"steps": [...]}``, a whole derivation checked line by line. A malformed line gets the verdict
``error`` and the batch goes on.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

from ..errors import DeriveError
from .decide import VERDICTS, check

FIELDS = ("problem", "target", "verdict", "expected", "parsed", "feedback", "certificate")
STEP_FIELDS = ("lines", "first_error")
FORMATS = ("jsonl", "csv", "gradescope")


def run_request(request: Mapping) -> dict:
    """Check one request in this process; never raises for bad input (verdict ``error``)."""
    start = time.perf_counter()
    if "steps" in request:
        result = _run_steps(request)
        result["ms"] = round((time.perf_counter() - start) * 1000, 2)
        return result
    try:
        answer = request.get("answer")
        if not isinstance(answer, str):
            raise DeriveError("'answer' must be a string")
        for key in ("problem", "target", "expected", "lang"):
            if key in request and not isinstance(request[key], str):
                raise DeriveError(f"'{key}' must be a string")
        if request.get("log_base", "e") not in ("e", 10, "10"):
            raise DeriveError("'log_base' must be \"e\" or 10")
        result = check(answer, request.get("problem"), request.get("target"), request.get("expected"),
                       lang=request.get("lang", "en"), assume=tuple(request.get("assume", ())),
                       log_base_e=request.get("log_base", "e") == "e")
    except DeriveError as error:
        result = {"problem": request.get("problem"), "target": request.get("target"), "verdict": "error",
                  "expected": "", "parsed": "", "feedback": str(error), "certificate": None}
    except MemoryError:
        raise  # the pool's worker reports it
    except Exception as error:  # noqa: BLE001 - SymPy fails in many ways on strange input: not judged, no traceback
        result = {"problem": request.get("problem"), "target": request.get("target"), "verdict": "unparsable",
                  "expected": "", "parsed": "", "feedback": f"the answer could not be compared: {type(error).__name__}",
                  "certificate": None}
    result["ms"] = round((time.perf_counter() - start) * 1000, 2)
    return result


def steps_text(steps) -> str:
    """A derivation given as a list of lines, or as one LaTeX string."""
    if isinstance(steps, str):
        return steps
    if isinstance(steps, list) and all(isinstance(s, str) for s in steps):
        return "\n".join(steps)
    raise DeriveError("'steps' must be a list of strings or one string")


def _run_steps(request: Mapping) -> dict:
    """A derivation checked line by line, as a grading result with its per-line verdicts."""
    from .steps import check_steps

    problem = request.get("problem")
    try:
        if not isinstance(problem, str):
            raise DeriveError("'problem' must be a string")
        report = check_steps(steps_text(request.get("steps")), problem, request.get("lang", "en"))
        if request.get("report"):
            return report
    except DeriveError as error:
        return {"problem": problem, "target": None, "verdict": "error", "expected": "", "parsed": "",
                "feedback": str(error), "certificate": None, "lines": [], "first_error": None}
    return summarize_steps(report, request.get("lang", "en"))


def summarize_steps(report: Mapping, lang: str) -> dict:
    """The grading fields of a line-by-line report: correct when no line is wrong or unreadable
    and the final result is right."""
    from ..render import wording

    phrases = wording(lang)["steps"]
    lines, final = report["lines"], report["final"]
    bad = [line for line in lines if line["verdict"] in ("wrong", "unreadable", "undecided")]
    verdict = "correct" if not bad and final["verdict"] == "correct" else "incorrect"
    feedback = [phrases["first_error"].format(n=bad[0]["n"], feedback=bad[0]["feedback"])] if bad else []
    feedback.append(phrases[f"final_{final['verdict']}"].format(target=final["target"] or "-"))
    skipped = [str(line["n"]) for line in lines if line["verdict"] == "skips"]
    if skipped:
        feedback.append(phrases["skipped"].format(lines=", ".join(skipped)))
    return {"problem": report["problem"], "target": final["target"], "verdict": verdict, "expected": "",
            "parsed": lines[-1]["parsed"] if lines else "", "feedback": " ".join(feedback), "certificate": None,
            "lines": lines, "first_error": report["first_error"]}


def parse_line(line: str, number: int) -> dict:
    """One input line as a request, or an ``{"error": ...}`` marker for a malformed one."""
    try:
        request = json.loads(line)
    except json.JSONDecodeError as error:
        return {"id": None, "error": f"line {number}: not JSON ({error.msg})"}
    if not isinstance(request, dict):
        return {"id": None, "error": f"line {number}: not a JSON object"}
    points = request.get("points", 1)
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
        return {"id": request.get("id"), "error": f"line {number}: 'points' must be a number >= 0"}
    if "steps" in request:
        return request if "problem" in request else {"id": request.get("id"), "error": f"line {number}: "
                                                     "'steps' needs 'problem'"}
    if "answer" not in request or not ("expected" in request or ("problem" in request and "target" in request)):
        return {"id": request.get("id"), "error": f"line {number}: needs 'answer' and 'problem' + 'target' "
                                                  "(or 'expected')"}
    return request


def grade(lines: Iterable[str], pool, lang: str = "en", jobs: int = 1, progress: bool = False) -> Iterator[dict]:
    """Grade request lines with a :class:`~derive.check.pool.CheckPool`; results in input order."""
    requests = [parse_line(line, n) for n, line in enumerate(lines, 1) if line.strip()]

    def one(request: dict) -> dict:
        if "error" in request:
            return {"id": request.get("id"), "problem": None, "target": None, "verdict": "error", "expected": "",
                    "parsed": "", "feedback": request["error"], "certificate": None, "ms": 0.0, "points": 1}
        budget = None
        if "steps" in request:  # a derivation gets the time of one check per line
            steps = request["steps"]
            count = len(steps) if isinstance(steps, list) else str(steps).count("\n") + 1
            budget = pool.timeout * min(max(count, 1), 30)
        result = pool.run({"lang": lang, **request}, budget)
        if result.get("verdict") == "timeout" and "feedback" not in result:
            from ..render import wording

            result.update(problem=request.get("problem"), target=request.get("target"), expected="",
                          parsed="", certificate=None,
                          feedback=wording(request.get("lang", lang))["check"]["timeout"].format(seconds=pool.timeout))
        steps = {k: result.get(k) for k in STEP_FIELDS} if "steps" in request else {}
        return {"id": request.get("id"), **{k: result.get(k) for k in FIELDS}, **steps, "ms": result.get("ms"),
                "points": request.get("points", 1)}

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as threads:
        results = threads.map(one, requests)
        if progress:
            from tqdm import tqdm

            results = tqdm(results, total=len(requests), file=sys.stderr, unit="answer")
        yield from results


def summary(results: list[dict], seconds: float) -> str:
    """One line: how many answers got each verdict, and the wall time."""
    counts = Counter(r["verdict"] for r in results)
    parts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    return f"graded {len(results)} answers in {seconds:.1f} s: {parts or 'nothing'}"


def write(results: list[dict], fmt: str) -> str:
    """The results as JSON lines, CSV (points and maximum) or a Gradescope results.json."""
    if fmt == "jsonl":
        return "".join(json.dumps({k: v for k, v in r.items() if k != "points"}, ensure_ascii=False) + "\n"
                       for r in results)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["id", "problem", "target", "verdict", "points", "max_points", "ms", "feedback"])
        for r in results:
            awarded = r["points"] if r["verdict"] == "correct" else 0
            writer.writerow([r["id"], r["problem"], r["target"], r["verdict"], awarded, r["points"], r["ms"],
                             r["feedback"]])
        return buffer.getvalue()
    tests = [{"name": f"{r['id']}: {r['problem'] or 'expression'}/{r['target'] or ''}".rstrip("/"),
              "score": r["points"] if r["verdict"] == "correct" else 0, "max_score": r["points"],
              "status": "passed" if r["verdict"] == "correct" else "failed",
              "output": f"{r['verdict']}: {r['feedback']}"} for r in results]
    return json.dumps({"score": sum(t["score"] for t in tests), "tests": tests}, ensure_ascii=False, indent=2) + "\n"
