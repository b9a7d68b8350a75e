"""Benchmark of `check-steps`, line by line: a 15-line Xavier derivation, warm, and as a process.

Run:  python bench/steps.py [--corpus] [--process]

Per line, warm: in one process, the entry (xavier) is built and SymPy's caches are warmed by
checking OTHER derivations of it (the step corpus's xavier cases that share no line with the
inputs); then each input is checked once, with the function check-steps' worker runs
(`derive.check.timed.check_steps_guarded`), and a line's time is the time from the report of the
line before to its own report (as the worker's per-line `--timeout` counts it). The inputs: seed
001 §3.1 typed as the course writes it, 15 lines (forward condition, backward condition, harmonic
mean, uniform bound, normal standard deviation), and the same lines with a swapped fan at line 6
(a wrong line, and every later line judged against it). `--corpus` adds every derivation of
tests/steps_corpus.jsonl (each problem warmed first on two others of its own).

Prints per input its lines' verdicts and times, then the median and p95 ms of one line, lines
per second (lines / the time spent judging them) and the final comparisons' median. `--process`
also times `python -m derive check-steps xavier --file F` as a process (cold: start-up, the
entry built in the worker; the median of 3). No test asserts a time; the goal (issue 17) is a
line under 2 s warm.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "steps_corpus.jsonl"
VAR = r"\operatorname{Var}"
#: seed 001 section 3.1 (Xavier, tanh) as the course writes it: M_{l-1} and M_l for the fans.
XAVIER_15 = [
    rf"{VAR}(z_i^{{(l)}}) = \sum_{{j=1}}^{{M_{{l-1}}}} {VAR}(W_{{ij}}^{{(l)}} a_j^{{(l-1)}})",
    (rf"{VAR}(W_{{ij}}^{{(l)}} a_j^{{(l-1)}}) = {VAR}(W_{{ij}}^{{(l)}}) {VAR}(a_j^{{(l-1)}})"
     rf" + {VAR}(W_{{ij}}^{{(l)}}) \mathbb{{E}}[a_j^{{(l-1)}}]^2"
     rf" + {VAR}(a_j^{{(l-1)}}) \mathbb{{E}}[W_{{ij}}^{{(l)}}]^2"),
    rf"= {VAR}(W_{{ij}}^{{(l)}}) {VAR}(a_j^{{(l-1)}})",
    rf"{VAR}(z_i^{{(l)}}) = {VAR}(a_j^{{(l-1)}})",
    (rf"\Rightarrow \sum_{{j=1}}^{{M_{{l-1}}}} {VAR}(W_{{ij}}^{{(l)}}) {VAR}(a_j^{{(l-1)}})"
     rf" = {VAR}(a_j^{{(l-1)}})"),
    rf"\Rightarrow M_{{l-1}} {VAR}(W_{{ij}}^{{(l)}}) {VAR}(a_j^{{(l-1)}}) = {VAR}(a_j^{{(l-1)}})",
    rf"\Rightarrow {VAR}(W_{{ij}}^{{(l)}}) = \frac{{1}}{{M_{{l-1}}}}",
    rf"{VAR}(W_{{ij}}^{{(l)}}) = \frac{{1}}{{M_l}}",
    rf"\frac{{1}}{{{VAR}(W_{{ij}}^{{(l)}})}} = \frac{{M_{{l-1}} + M_l}}{{2}}",
    rf"\Rightarrow {VAR}(W_{{ij}}^{{(l)}}) = \frac{{2}}{{M_l + M_{{l-1}}}}",
    rf"{VAR}(U(-r,r)) = \int_{{-r}}^{{r}} \frac{{w^2}}{{2r}}\,dw = \frac{{r^2}}{{3}}",
    r"\frac{r^2}{3} = \frac{2}{M_{l-1} + M_l}",
    r"\Rightarrow r = \sqrt{\frac{6}{M_{l-1} + M_l}}",
    r"\sigma^2 = \frac{2}{M_{l-1} + M_l}",
    r"\Rightarrow \sigma = \sqrt{\frac{2}{M_{l-1} + M_l}}",
]
#: the same with a factor 1/2 slipped in at line 3: wrong there, later lines judged against it
XAVIER_15_SLIP = [*XAVIER_15[:2], XAVIER_15[2].replace("= ", r"= \frac{1}{2} ", 1), *XAVIER_15[3:]]


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of a list of numbers."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed_check(lines: list[str], problem: str) -> tuple[list[dict], list[tuple[float, float]], float, dict]:
    """One check of ``lines``: the report's lines, each line's (wall, CPU) seconds, the final
    comparison's wall seconds and the final verdict."""
    from derive.check.timed import check_steps_guarded

    stamps: list[tuple[int, float, float]] = []
    def stamp(done: list) -> None:
        stamps.append((len(done), time.perf_counter(), time.process_time()))

    report = check_steps_guarded("\n".join(lines), problem, "en", stamp)
    end = time.perf_counter()
    firsts: dict[int, tuple[float, float]] = {}
    for count, wall, cpu in stamps:
        firsts.setdefault(count, (wall, cpu))  # the first report with `count` lines judged
    counts = sorted(firsts)
    seconds = [(firsts[b][0] - firsts[a][0], firsts[b][1] - firsts[a][1])
               for a, b in itertools.pairwise(counts)]
    return report["lines"], seconds, end - firsts[counts[-1]][0], report["final"]


def corpus() -> list[dict]:
    """The step corpus's derivations."""
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def warm_up(problem: str, cases: list[dict], avoid: list[str], count: int) -> list[str]:
    """Check ``count`` corpus derivations of ``problem`` that share no line with ``avoid`` (not timed);
    returns their ids."""
    used = []
    for case in cases:
        if case["problem"] == problem and not set(case["steps"]) & set(avoid) and len(used) < count:
            timed_check(case["steps"], problem)
            used.append(case["id"])
    return used


def process_wall(lines: list[str], repeat: int = 3) -> float:
    """The median wall time of `python -m derive check-steps xavier --file F` as a process."""
    with tempfile.TemporaryDirectory() as folder:
        answer = Path(folder) / "xavier.tex"
        answer.write_text("\n".join(lines), encoding="utf-8")
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "derive", "check-steps", "xavier", "--file", str(answer)],
                           stdout=subprocess.DEVNULL, cwd=ROOT, check=False)  # exit 1 for a wrong line
            times.append(time.perf_counter() - start)
        return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="store_true", help="also every derivation of the step corpus")
    parser.add_argument("--process", action="store_true", help="also the command as a process (cold)")
    options = parser.parse_args()
    cases = corpus()
    inputs = [("xavier-15 (seed 001 3.1)", "xavier", XAVIER_15),
              ("xavier-15, a factor 1/2 slipped in at line 3", "xavier", XAVIER_15_SLIP)]
    start = time.perf_counter()
    warmed = warm_up("xavier", cases, XAVIER_15 + XAVIER_15_SLIP, 3)
    print(f"warm-up: xavier built, {', '.join(warmed)} checked "
          f"({time.perf_counter() - start:.1f} s, not timed)")
    if options.corpus:
        for problem in sorted({case["problem"] for case in cases} - {"xavier"}):
            chosen = [case for case in cases if case["problem"] == problem]
            warm_up(problem, chosen[-2:], [], 2)  # its last two; then every case of it is timed once
        inputs += [(case["id"], case["problem"], case["steps"]) for case in cases]
    every, finals, slowest = [], [], []
    for name, problem, lines in inputs:
        judged, seconds, final_seconds, final = timed_check(lines, problem)
        every += seconds
        slowest += [(wall, cpu, name, line["n"]) for line, (wall, cpu) in zip(judged, seconds, strict=False)]
        finals.append(final_seconds)
        if not options.corpus or name.startswith("xavier-15"):
            print(f"\n{name}: {len(judged)} lines, final {final['verdict']} ({final_seconds * 1000:.0f} ms)")
            for line, (wall, cpu) in zip(judged, seconds, strict=False):
                print(f"  {line['n']:>3}. {line['verdict']:<11}{wall * 1000:>7.0f} ms wall"
                      f"{cpu * 1000:>7.0f} ms CPU")
    for which, values in (("wall", [w for w, _ in every]), ("CPU", [c for _, c in every])):
        median, p95 = summary(values)
        print(f"one line, warm, {which}: median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
              f"max {max(values) * 1000:.0f} ms; {len(values) / sum(values):.1f} lines/s")
    print("slowest lines: " + ", ".join(f"{name} line {n} {wall:.1f} s ({cpu:.1f} s CPU)"
                                        for wall, cpu, name, n in sorted(slowest, reverse=True)[:6]))
    print(f"({len(every)} lines of {len(inputs)} derivations; final comparison median "
          f"{statistics.median(finals) * 1000:.0f} ms wall; load average {os.getloadavg()[0]:.1f})")
    if options.process:
        wall = process_wall(XAVIER_15)
        print(f"`derive check-steps xavier --file F` (15 lines) as a process, cold: {wall:.2f} s")


if __name__ == "__main__":
    main()
