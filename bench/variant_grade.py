"""Benchmark of `derive grade --variants`: a class of 200 students, 10 answers each, every student
judged against their own variant.

Run:  python bench/variant_grade.py [--students 200] [--jobs 2] [--repeat 1] [--seed 1]

Writes a 8-problem sheet spec (Xavier's Var and uniform bound and Kaiming's Var and standard
deviation with n_in, n_out drawn per student; a single and a multiple choice shuffled per
student; a true/false; a numeric answer with a tolerance and one judged by its digits; a short
answer: 10 answers), draws the students' variants with `derive sheet SPEC --variants N --seed S`
(not timed), and writes each student's 10 answers: an even-numbered student answers their own
variant (formulas unsimplified, \\frac{2}{320+128}, so each is a real check), an odd-numbered one
the next student's (wrong where the draws differ). Then grades them with
`python -m derive grade --variants variants.json --jobs N` as a process (cold: its start and its
workers' included), and prints the wall time (median over the runs), answers per second, the median
and p95 ms of one check (the `ms` of each answer judged in the worker pool), and the verdicts.
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

SPEC = r'''title = "Variants benchmark"
lang = "en"

[[problem]]
id = "xavier"
entry = "xavier"
targets = ["var", "uniform_bound"]
points = 4
params = { n_in = { from = 64, to = 2048, step = 64 }, n_out = [128, 256, 384, 512] }

[[problem]]
id = "kaiming"
entry = "kaiming"
targets = ["var", "std"]
points = 4
params = { n_in = { from = 32, to = 4096, step = 32 } }

[[problem]]
statement = "Sigmoid's derivative?"
choice = { options = ["$\\sigma(1-\\sigma)$", "$\\sigma(1+\\sigma)$", "$1-\\sigma^2$"], answer = [0] }

[[problem]]
statement = "Which are activation functions?"
choice = { options = ["ReLU", "SGD", "tanh", "Adam"], answer = [0, 2] }

[[problem]]
statement = "The learning rate does not affect convergence."
truefalse = false

[[problem]]
statement = "$\\sigma(0)$ = ?"
numeric = { value = "0.5", tolerance = "0.01" }

[[problem]]
statement = "$\\tanh(1)$ to three decimals?"
numeric = { value = "0.762" }

[[problem]]
statement = "ReLU over sigmoid?"
short = "Gradient 1 on the positive side."
'''


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of a list of numbers."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def letters(problem: dict) -> str:
    """The letters this student's handout shows the right options at."""
    return ",".join(chr(ord("A") + p) for p in problem["answer"])


def answers(student: dict, source: dict) -> list[dict]:
    """A student's 10 answers, written from ``source``'s variant (their own, or another's)."""
    xavier, kaiming = source["params"]["1"], source["params"]["2"]
    total, n_in = f"{xavier['n_in']}+{xavier['n_out']}", kaiming["n_in"]
    problems = {p["number"]: p for p in source["problems"]}
    ident = student["id"]
    return [{"student": ident, "problem": "xavier", "target": "var", "answer": rf"\frac{{2}}{{{total}}}"},
            {"student": ident, "problem": "xavier", "target": "uniform_bound",
             "answer": rf"\sqrt{{\frac{{6}}{{{total}}}}}"},
            {"student": ident, "problem": "kaiming", "target": "var", "answer": rf"\frac{{4}}{{2 \cdot {n_in}}}"},
            {"student": ident, "problem": 2, "target": "std", "answer": rf"\sqrt{{\frac{{2}}{{{n_in}}}}}"},
            {"student": ident, "problem": 3, "choice": letters(problems[3])},
            {"student": ident, "problem": 4, "choice": letters(problems[4])},
            {"student": ident, "problem": 5, "answer": "错"},
            {"student": ident, "problem": 6, "answer": "0.505"},
            {"student": ident, "problem": 7, "answer": "0.762" if ident == source["id"] else "0.76"},
            {"student": ident, "problem": 8, "answer": "Not saturating for z > 0."}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200, help="students (default 200)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="the seed of the draws (default 1)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "bench.toml").write_text(SPEC, encoding="utf-8")
        drawn = subprocess.run([sys.executable, "-m", "derive", "sheet", str(folder / "bench.toml"), "--variants",
                                str(options.students), "--seed", str(options.seed), "-o", str(folder / "out")],
                               check=False, capture_output=True, text=True)
        if drawn.returncode:
            sys.exit(f"sheet --variants failed: {drawn.stderr.strip()}")
        variants = folder / "out" / "variants.json"
        students = json.loads(variants.read_text(encoding="utf-8"))["students"]
        rows = [row for n, student in enumerate(students)
                for row in answers(student, students[n if n % 2 == 0 else (n + 1) % len(students)])]
        source, output = folder / "class.jsonl", folder / "out.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        walls = []
        for _ in range(options.repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "derive", "grade", str(source), "--variants", str(variants),
                            "--jobs", str(options.jobs), "-o", str(output)], check=True, stderr=subprocess.DEVNULL)
            walls.append(time.perf_counter() - start)
        results = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    pooled = [r["ms"] for r in results if r["ms"]]
    wall = statistics.median(walls)
    median, p95 = summary(pooled) if pooled else (0.0, 0.0)
    verdicts = ", ".join(f"{count} {verdict}" for verdict, count in sorted(Counter(r["verdict"] for r in results).items()))
    print(f"derive grade --variants --jobs {options.jobs}: {len(students)} students x 10 answers, "
          f"{options.repeat} run(s), cold process")
    print(f"\n{'answers':>8}{'checks':>8}{'wall s':>9}{'answers/s':>11}{'check median ms':>17}{'check p95 ms':>14}  verdicts")
    print(f"{len(rows):>8}{len(pooled):>8}{wall:>9.2f}{len(rows) / wall:>11.0f}{median:>17.1f}{p95:>14.1f}  {verdicts}")
    own = [r["verdict"] for n, r in enumerate(results) if (n // 10) % 2 == 0 and r["verdict"] != "manual"]
    print(f"\nanswers to the student's own variant judged correct: {own.count('correct')} of {len(own)}")


if __name__ == "__main__":
    main()
