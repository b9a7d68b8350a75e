"""Benchmark of `derive grade` on a whole class: many identical answers, and many distinct ones.

Run:  python bench/grade.py [--jobs 2] [--lines 100000] [--distinct 10000] [--repeat 1]

Writes two batches to a temporary folder and grades each with `python -m derive grade --jobs N`
as a process (cold: a fresh process each run, its worker start included):

- LINES lines holding 4 distinct answers (sigmoid d1: two right, two wrong), as a class that
  writes the same few answers many times; identical requests are checked once, so this measures
  reading, validating, fanning out and writing;
- DISTINCT lines, every answer different (a coefficient k in right and wrong forms of the
  answers to sigmoid, tanh, xavier, kaiming, mse and softmax-ce), so every line is a check.

Prints, for each batch: lines, distinct checks, wall time (median over the runs), lines per
second, and the median and p95 ms of one check (the `ms` of each distinct check, as the workers
measured it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

SAME = [("sigmoid", "d1", r"\sigma(x)(1-\sigma(x))"), ("sigmoid", "d1", r"\sigma(1-\sigma)"),
        ("sigmoid", "d1", r"\sigma(1+\sigma)"), ("sigmoid", "d1", r"e^{-x}")]
# Right and wrong forms of answers, with a coefficient k = 1, 2, ... that makes each distinct
# (k1 = k + 1, k2 = 2k): the wrong ones are wrong for every k.
FORMS = [
    ("sigmoid", "d1", r"\frac{{{k}}}{{{k}}}\sigma(x)(1-\sigma(x))"),
    ("sigmoid", "d1", r"\sigma(x)(1-\sigma(x)) + \frac{{x}}{{{k}}}"),
    ("tanh", "d1", r"1 - \tanh^2(x) + {k}x - {k}x"),
    ("tanh", "d1", r"1 - {k1}\tanh^2(x)"),
    ("xavier", "var", r"\frac{{{k2}}}{{{k}(n_{{in}} + n_{{out}})}}"),
    ("xavier", "var", r"\frac{{{k2}}}{{n_{{in}} + n_{{out}}}} + \frac{{1}}{{n_{{in}}}}"),
    ("kaiming", "var", r"\frac{{{k2}}}{{{k} n_{{in}}}}"),
    ("kaiming", "var", r"\frac{{{k}}}{{n_{{in}}}} + \frac{{2}}{{n_{{in}}}}"),
    ("mse", "dl_dyhat", r"\frac{{{k}(\hat y - y)}}{{{k}}}"),
    ("softmax-ce", "dl_dz", r"p_k - y_k + {k} - {k}"),
]


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of a list of numbers."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def same_answers(lines: int) -> list[dict]:
    """A class writing the same 4 answers, round robin."""
    return [{"id": f"s{n}", "problem": SAME[n % 4][0], "target": SAME[n % 4][1], "answer": SAME[n % 4][2]}
            for n in range(lines)]


def distinct_answers(lines: int) -> list[dict]:
    """Every answer different: the forms above with k = 1, 2, ..."""
    rows = []
    for n in range(lines):
        problem, target, form = FORMS[n % len(FORMS)]
        k = n // len(FORMS) + 1
        rows.append({"id": f"d{n}", "problem": problem, "target": target, "answer": form.format(k=k, k1=k + 1, k2=2 * k)})
    return rows


def grade(rows: list[dict], jobs: int, folder: Path, repeat: int) -> tuple[list[float], list[dict]]:
    """Wall times of `derive grade` on the rows, and the results of the last run."""
    source, output = folder / "class.jsonl", folder / "out.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "derive", "grade", str(source), "--jobs", str(jobs), "-o", str(output)],
                       check=True, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
    return walls, [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--lines", type=int, default=100_000, help="lines of the 4-answer batch (default 100000)")
    parser.add_argument("--distinct", type=int, default=10_000, help="lines of the distinct batch (default 10000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each batch (default 1)")
    options = parser.parse_args()
    batches = {f"{options.lines} lines, 4 distinct answers": same_answers(options.lines),
               f"{options.distinct} lines, all distinct": distinct_answers(options.distinct)}
    print(f"derive grade --jobs {options.jobs}, {options.repeat} run(s) each, cold process")
    print(f"\n{'batch':<36}{'checks':>8}{'wall s':>9}{'lines/s':>10}{'check median ms':>17}{'check p95 ms':>14}"
          f"{'verdicts':>40}")
    with tempfile.TemporaryDirectory() as folder:
        for label, rows in batches.items():
            walls, results = grade(rows, options.jobs, Path(folder), options.repeat)
            checks = {json.dumps({k: v for k, v in row.items() if k != "id"}, sort_keys=True): result["ms"]
                      for row, result in zip(rows, results, strict=True)}
            wall = statistics.median(walls)
            median, p95 = summary(list(checks.values()))
            counts = Counter(r["verdict"] for r in results)
            verdicts = ", ".join(f"{count} {verdict}" for verdict, count in sorted(counts.items()))
            print(f"{label:<36}{len(checks):>8}{wall:>9.2f}{len(rows) / wall:>10.0f}{median:>17.1f}{p95:>14.1f}"
                  f"{verdicts:>40}")


if __name__ == "__main__":
    main()
