"""Benchmark of the checker on labeled answers, beside Math-Verify, in one run.

Run:  pip install -e '.[bench]' && python bench/check.py [--jobs 2] [--peer | --all] [--skip-peer]

Two tables. The course corpus (bench/corpus.jsonl, the default): answers to the catalog's
targets, checked with `python -m derive grade` lines {"problem", "target", "answer"}; Math-Verify
is given the expected result as derive prints it and the answer, each `$...$`-wrapped. The peer
table (`--peer`; bench/peer_pairs.jsonl, extracted from Math-Verify's own labeled tests by
bench/peer_tables.py): derive's generic mode, grade lines {"expected", "answer"} (what
`check --expected E --answer A` does), beside Math-Verify's `verify(parse($E$), parse($A$))`.

For each tool: accuracy, false accepts (a wrong or bad answer accepted), false rejects (a correct
answer refused, unparsable ones included), unparsable (derive: `unparsable` or `error`, Math-Verify:
nothing parsed or an exception), and the median and p95 ms of one warm check. Warm means honest:
derive's workers (and Math-Verify's process) first check OTHER answers (made up for the purpose,
none in the table), then each answer of the table is checked once, in the same batch; a second
pass over identical inputs would time SymPy's caches and grade's de-duplication, not the checker.
derive's ms are the workers' own measure of one check; the batch wall time is a separate cold
`derive grade` process over the table alone (worker start and warm-ups included).
For derive, the peer table also lists every false accept and the constructs most common among the
pairs it could not read.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
CORPUS, PEER = HERE / "corpus.jsonl", HERE / "peer_pairs.jsonl"
UNREAD = ("unparsable", "error")
ACCEPTED_OR_UNREAD = ("correct", *UNREAD)
#: Made-up answers that warm each target's workers (not in the corpus: 7919 is in none of its answers).
WARM_ANSWERS = ("\\frac{{{k}}}{{7919}}", "{k}x + 7919", "\\sqrt{{7919}} - {k}")
#: Made-up generic pairs that warm derive's generic mode and Math-Verify (none in the peer table).
WARM_PAIRS = (("x^2 + {k}", "(x+{k})^2 - 2{k}x"), ("y = {k}x + 7919", "{k}x - y + 7919 = 0"),
              ("\\frac{{7919}}{{{k}}}", "7919/{k}"), ("[{k}, 7919)", "[{k}, 7919]"),
              ("\\{{{k}, 7919\\}}", "\\{{7919, {k}\\}}"), ("({k}, 7919)", "(7919, {k})"),
              ("x \\le {k}", "{k} \\ge x"), ("\\sin^2 t + {k}", "1 - \\cos^2 t + {k}"))
CONSTRUCTS = {"comma list": re.compile(r"\d\s*,\s*-?\d|\),\s*\("), "semicolon": re.compile(";"),
              "ratio a:b": re.compile(r":"), "thousands/decimal comma": re.compile(r"\d,\d"),
              "inequality": re.compile(r"<|>|\\l[et]|\\g[et]"), "chain a = b = c": re.compile(r"=.*="),
              "braces set { }": re.compile(r"(?<!\\)\{[^{}]*,"), "percent": re.compile(r"%"),
              "approx": re.compile(r"\\approx"), "interval": re.compile(r"[\[(][^,]*,[^,]*[\])]")}


def read(path: Path) -> list[dict]:
    """The JSON lines of ``path``."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def figures(rows: list[dict], verdicts: list[str], times: list[float], wall: float) -> dict:
    """Accuracy and errors of one tool's verdicts against the labels."""
    labels = [r["label"] == "correct" for r in rows]
    accepted = [v == "correct" for v in verdicts]
    ordered = sorted(times)
    return {
        "accuracy": sum(label == ok for label, ok in zip(labels, accepted, strict=True)) / len(rows),
        "false accepts": sum(ok and not label for label, ok in zip(labels, accepted, strict=True)),
        "false rejects": sum(label and not ok for label, ok in zip(labels, accepted, strict=True)),
        "correct accepted": sum(label and ok for label, ok in zip(labels, accepted, strict=True))
        / max(1, sum(labels)),
        "unparsable": sum(v in UNREAD for v in verdicts),
        "median ms": statistics.median(ordered),
        "p95 ms": ordered[round(0.95 * (len(ordered) - 1))],
        "wall s": wall,
    }


def grade(lines: list[dict], jobs: int) -> tuple[list[dict], float]:
    """``lines`` through one `derive grade --jobs N` process: its results and its wall time."""
    with tempfile.TemporaryDirectory() as folder:
        source, output = Path(folder) / "in.jsonl", Path(folder) / "out.jsonl"
        source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "derive", "grade", str(source), "--jobs", str(jobs),
                               "-o", str(output)], stderr=subprocess.PIPE, text=True)
        if done.returncode or not output.exists():
            print(f"bench/check.py: error: derive grade failed (status {done.returncode}): "
                  + (done.stderr.strip().splitlines() or ["no message"])[-1], file=sys.stderr)
            sys.exit(2)
        wall = time.perf_counter() - start
        return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()], wall


def run_derive(requests: list[dict], warm: list[dict], jobs: int) -> tuple[list[dict], list[float], float]:
    """Results of a cold batch of ``requests`` and its wall time, and the ms of each request checked
    once after ``warm`` (other answers) in the same batch."""
    seen = {json.dumps(r, sort_keys=True) for r in requests}
    warm = [w for w in warm if json.dumps(w, sort_keys=True) not in seen]
    results, wall = grade([{"id": i, **r} for i, r in enumerate(requests)], jobs)
    timed = grade([{"id": f"warm{i}", **w} for i, w in enumerate(warm)]
                  + [{"id": i, **r} for i, r in enumerate(requests)], jobs)[0][len(warm):]
    return results, [r["ms"] for r in timed], wall


Pairs = list[tuple[str, str]]


def run_math_verify(pairs: Pairs, warm: Pairs) -> tuple[list[str], list[float], float]:
    """Math-Verify's verdict and ms on each (expected, answer) pair, after checking ``warm`` pairs."""
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)  # its timeouts are counted, not printed

    def judge(expected: str, answer: str) -> str:
        try:
            gold, given = parse(f"${expected}$"), parse(f"${answer}$")
            if not gold or not given:
                return "unparsable"
            return "correct" if verify(gold, given) else "incorrect"
        except Exception:  # noqa: BLE001 - the peer tool's own failures count as unparsable
            return "unparsable"

    for expected, answer in warm:
        judge(expected, answer)
    verdicts, times = [], []
    start = time.perf_counter()
    for expected, answer in pairs:
        begin = time.perf_counter()
        verdicts.append(judge(expected, answer))
        times.append((time.perf_counter() - begin) * 1000)
    return verdicts, times, time.perf_counter() - start


def save_details(path: Path | None, table: str, rows: list[dict], results: list[dict],
                 times: list[float]) -> None:
    """Append derive's verdict, feedback and warm ms for each row to ``path`` (if given)."""
    if path:
        with path.open("a", encoding="utf-8") as out:
            for row, result, ms in zip(rows, results, times, strict=True):
                out.write(json.dumps({"table": table, "id": row["id"], "label": row["label"], "ms": ms,
                                      "verdict": result["verdict"], "feedback": result["feedback"]},
                                     ensure_ascii=False) + "\n")


def print_table(title: str, rows: list[dict], table: dict[str, dict]) -> None:
    """One table of figures, a line per tool."""
    counts = Counter(r["label"] for r in rows)
    print(f"\n{title}: {len(rows)} answers (" + ", ".join(f"{n} {label}" for label, n in counts.items())
          + ")")
    names = list(next(iter(table.values())))
    print(f"{'':26}" + "".join(f"{n:>17}" for n in names))
    for tool, values in table.items():
        cells = [f"{v:>17.3f}" if isinstance(v, float) else f"{v:>17}" for v in values.values()]
        print(f"{tool:26}" + "".join(cells))


def corpus_table(jobs: int, peer: bool, details: Path | None) -> None:
    """The course corpus through derive and Math-Verify."""
    rows = read(CORPUS)
    requests = [{k: r[k] for k in ("problem", "target", "answer")} for r in rows]
    targets = sorted({(r["problem"], r["target"]) for r in rows})
    warm = [{"problem": p, "target": t, "answer": a.format(k=k)} for p, t in targets
            for k in range(1, jobs + 1) for a in WARM_ANSWERS]
    results, times, wall = run_derive(requests, warm, jobs)
    table = {f"derive grade --jobs {jobs}": figures(rows, [r["verdict"] for r in results], times, wall)}
    if peer:
        import derive
        from derive.printing import NotationLatexPrinter

        def expected(problem: str, target: str) -> str:
            derivation = derive.get(problem)
            return NotationLatexPrinter(derivation.quantities).doprint(derivation.target(target).rhs)

        printed = {key: expected(*key) for key in targets}
        pairs = [(printed[r["problem"], r["target"]], r["answer"]) for r in rows]
        warm_pairs = [(printed[w["problem"], w["target"]], w["answer"]) for w in warm]
        table["math-verify 0.9.0"] = figures(rows, *run_math_verify(pairs, warm_pairs))
    print_table("course corpus", rows, table)
    save_details(details, "corpus", rows, results, times)
    slowest = sorted(zip(times, rows, strict=True), key=lambda pair: -pair[0])[:8]
    print("derive's slowest warm checks: " + ", ".join(f"{row['id']} {ms:.0f} ms" for ms, row in slowest))
    print("\nderive's false accepts:")
    _listing(rows, results, lambda row, verdict: verdict == "correct" and row["label"] != "correct")


def constructs(text: str) -> set[str]:
    """The LaTeX commands and notations in ``text`` (for the list of what derive could not read)."""
    found = {f"\\{name}" for name in re.findall(r"\\([A-Za-z]+)", text)}
    return found | {name for name, pattern in CONSTRUCTS.items() if pattern.search(text)}


def _both(row: dict) -> str:
    return row["expected"] + " " + row["answer"]


def _value_for_equation(row: dict) -> bool:
    """An expected equation answered with a value: refused by derive's rule, labeled correct by some peers."""
    def equation(text: str) -> bool:
        return re.search(r"(?<![<>!\\])=", text) is not None
    return "expected" in row and equation(row["expected"]) and not equation(row["answer"])


def _listing(rows: list[dict], results: list[dict], chosen) -> None:
    """One line per pair whose row and verdict are ``chosen``, its label marked if disputed."""
    for row, result in zip(rows, results, strict=True):
        if chosen(row, result["verdict"]):
            asked = (f"expected {row['expected']!r}" if "expected" in row
                     else f"{row['problem']} {row['target']}")
            print(f"  {row['id']}: {asked}, answer {row['answer']!r} -> {result['verdict']}"
                  + (f"  [label disputed: {row['disputed']}]" if row.get("disputed") else "")
                  + ("  [a value where an equation is expected]" if _value_for_equation(row) else ""))


def peer_table(jobs: int, with_math_verify: bool, details: Path | None) -> None:
    """The pairs of Math-Verify's tests through derive's generic mode and Math-Verify."""
    rows = read(PEER)
    requests = [{"expected": r["expected"], "answer": r["answer"]} for r in rows]
    warm = [{"expected": e.format(k=k), "answer": a.format(k=k)} for k in range(2, 2 + 2 * jobs)
            for e, a in WARM_PAIRS]
    results, times, wall = run_derive(requests, warm, jobs)
    table = {f"derive grade --jobs {jobs}": figures(rows, [r["verdict"] for r in results], times, wall)}
    if with_math_verify:
        table["math-verify 0.9.0"] = figures(rows, *run_math_verify(
            [(r["expected"], r["answer"]) for r in rows], [(w["expected"], w["answer"]) for w in warm]))
    print_table("Math-Verify's test pairs (generic mode)", rows, table)
    save_details(details, "peer", rows, results, times)
    print("\nderive's false accepts:")
    _listing(rows, results, lambda row, verdict: verdict == "correct" and row["label"] != "correct")
    print("derive's false rejects (not unparsable):")
    _listing(rows, results, lambda r, verdict: r["label"] == "correct" and verdict not in ACCEPTED_OR_UNREAD)
    unread = [(row, result) for row, result in zip(rows, results, strict=True) if result["verdict"] in UNREAD]
    tally = Counter(c for row, _ in unread for c in constructs(_both(row)))
    refused = sum(_value_for_equation(r) and r["label"] == "correct" and v["verdict"] != "correct"
                  for r, v in zip(rows, results, strict=True))
    print(f"({refused} false rejects are a value where an equation is expected: refused by rule)")
    print(f"derive could not read {len(unread)} pairs; the constructs most common among them:")
    for construct, count in tally.most_common(15):
        example = next(row for row, _ in unread if construct in constructs(_both(row)))
        print(f"  {count:3}  {construct:24} e.g. {example['id']}: {example['expected']!r}"
              f" / {example['answer']!r}")
    print("  feedback: " + "; ".join(f"{n}x {re.sub(r'[0-9]+', 'N', text)[:70]!r}" for text, n in
                                     Counter(r["feedback"] for _, r in unread).most_common(6)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for derive grade (default 2)")
    parser.add_argument("--peer", action="store_true", help="the peer table (Math-Verify's test pairs) only")
    parser.add_argument("--all", action="store_true", help="both tables")
    parser.add_argument("--skip-peer", action="store_true", help="do not run Math-Verify")
    parser.add_argument("--details", type=Path,
                        help="append derive's verdict, feedback and warm ms per answer to a JSON-lines file")
    options = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    if options.all or not options.peer:
        corpus_table(options.jobs, not options.skip_peer, options.details)
    if options.all or options.peer:
        peer_table(options.jobs, not options.skip_peer, options.details)


if __name__ == "__main__":
    main()
