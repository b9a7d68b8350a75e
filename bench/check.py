"""Benchmark of the checker on the labeled corpus (bench/corpus.jsonl), beside Math-Verify.

Run:  pip install -e '.[bench]' && python bench/check.py [--jobs 2]

Runs the corpus through `python -m derive grade --jobs N` as a process, and through
Math-Verify (`math-verify`, given `$...$`-wrapped LaTeX: the expected result printed by
derive, and the answer as written) in the same run, and prints for each: accuracy, false
accepts (a wrong or bad answer accepted), false rejects (a correct answer refused),
unparsable, median and p95 ms per check (derive: warm workers, from a second pass over the
corpus in the same batch), and the wall time of the whole batch (derive: one cold process).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus.jsonl")


def figures(rows: list[dict], verdicts: list[str], times: list[float], wall: float) -> dict:
    """Accuracy and errors of one tool's verdicts against the labels."""
    accepted = [v == "correct" for v in verdicts]
    labels = [r["label"] for r in rows]
    right = sum((label == "correct") == ok for label, ok in zip(labels, accepted, strict=False))
    ordered = sorted(times)
    return {
        "accuracy": right / len(rows),
        "false accepts": sum(ok and label != "correct" for label, ok in zip(labels, accepted, strict=False)),
        "false rejects": sum(not ok and label == "correct" for label, ok in zip(labels, accepted, strict=False)),
        "correct accepted": sum(ok and label == "correct" for label, ok in zip(labels, accepted, strict=False))
        / max(1, labels.count("correct")),
        "unparsable": verdicts.count("unparsable"),
        "median ms": statistics.median(ordered),
        "p95 ms": ordered[round(0.95 * (len(ordered) - 1))],
        "wall s": wall,
    }


def _grade(path: Path, jobs: int, folder: str) -> tuple[list[dict], float]:
    output = Path(folder) / "out.jsonl"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "derive", "grade", str(path), "--jobs", str(jobs), "-o", str(output)],
                   check=True, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()], wall


def run_derive(jobs: int) -> tuple[list[str], list[float], float]:
    """The corpus through `derive grade` as a process: verdicts and wall time of one batch, and
    per-check ms when warm (the corpus graded twice in one batch; the second pass timed)."""
    with tempfile.TemporaryDirectory() as folder:
        results, wall = _grade(CORPUS, jobs, folder)
        twice = Path(folder) / "twice.jsonl"
        twice.write_text(CORPUS.read_text(encoding="utf-8") * 2, encoding="utf-8")
        warm = _grade(twice, jobs, folder)[0][len(results):]
    return [r["verdict"] for r in results], [r["ms"] for r in warm], wall


def run_math_verify(rows: list[dict]) -> tuple[list[str], list[float], float]:
    """The corpus through Math-Verify, one answer at a time, with its own timeouts."""
    from math_verify import parse, verify

    import derive
    from derive.printing import NotationLatexPrinter

    verdicts, times = [], []
    start = time.perf_counter()
    for row in rows:
        derivation = derive.get(row["problem"])
        expected = NotationLatexPrinter(derivation.quantities).doprint(derivation.target(row["target"]).rhs)
        begin = time.perf_counter()
        try:
            gold, answer = parse(f"${expected}$"), parse(f"${row['answer']}$")
            verdict = "unparsable" if not answer else ("correct" if verify(gold, answer) else "incorrect")
        except Exception:  # noqa: BLE001 - the peer tool's own failures count as unparsable
            verdict = "unparsable"
        times.append((time.perf_counter() - begin) * 1000)
        verdicts.append(verdict)
    return verdicts, times, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for derive grade (default 2)")
    parser.add_argument("--skip-peer", action="store_true", help="do not run Math-Verify")
    options = parser.parse_args()
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    counts = {label: sum(r["label"] == label for r in rows) for label in ("correct", "incorrect", "bad")}
    print(f"corpus: {len(rows)} answers ({counts['correct']} correct, {counts['incorrect']} incorrect, "
          f"{counts['bad']} bad)")
    table = {f"derive grade --jobs {options.jobs}": figures(rows, *run_derive(options.jobs))}
    if not options.skip_peer:
        os.environ.setdefault("DERIVE_NO_CACHE", "")
        table["math-verify 0.9.0"] = figures(rows, *run_math_verify(rows))
    names = list(next(iter(table.values())))
    print(f"\n{'':28}" + "".join(f"{n:>17}" for n in names))
    for tool, values in table.items():
        cells = [f"{v:>17.3f}" if isinstance(v, float) else f"{v:>17}" for v in values.values()]
        print(f"{tool:28}" + "".join(cells))


if __name__ == "__main__":
    main()
