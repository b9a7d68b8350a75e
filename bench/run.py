"""Benchmarks: time to derive and verify every catalog entry, and the CLI's wall time.

Run:  python bench/run.py [--repeat N]

Prints, for every entry, the cold time (a fresh process, nothing cached) and the warm time
(the same process again, SymPy's caches warm, the derivation rebuilt and re-verified), then
the wall time of `python -m derive xavier --latex` as a process, with and without the cache
of verified derivations, beside `python -c "import sympy"` measured in the same run; last,
the Chinese example handout and key (examples/hw3-initialization-zh.toml): the .tex alone
and the PDF pair, as processes (the PDF only where TeX is installed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

COLD = """
import sys, time
import derive
from derive.catalog import ENTRIES
entry = {e.name: e for e in ENTRIES}[sys.argv[1]]
start = time.perf_counter()
entry.build()
print(time.perf_counter() - start)
"""


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of a list of seconds."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def wall(command: list[str], repeat: int, env: dict) -> list[float]:
    """Wall times of running a command as a process."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (default 5)")
    options = parser.parse_args()
    from derive.catalog import ENTRIES

    fresh = {**os.environ, "DERIVE_NO_CACHE": "1"}
    print(f"{'entry':<19}{'cold s':>9}{'warm median s':>15}{'warm p95 s':>12}")
    total_warm = 0.0
    for entry in ENTRIES:
        cold = float(subprocess.run([sys.executable, "-c", COLD, entry.name], check=True, env=fresh,
                                    capture_output=True, text=True).stdout)
        warm = []
        for _ in range(options.repeat):
            start = time.perf_counter()
            entry.build()
            warm.append(time.perf_counter() - start)
        median, p95 = summary(warm)
        total_warm += median
        flag = "  over 1 s" if max(cold, median) > 1 else ""
        print(f"{entry.name:<19}{cold:>9.3f}{median:>15.3f}{p95:>12.3f}{flag}")
    print(f"throughput (warm): {len(ENTRIES) / total_warm:.1f} derivations verified per second")

    with tempfile.TemporaryDirectory() as cache:
        cached = {**os.environ, "DERIVE_CACHE_DIR": cache}
        cli = [sys.executable, "-m", "derive", "xavier", "--latex"]
        wall(cli, 1, cached)  # fill the cache of verified derivations
        rows = {
            "python -c 'import sympy'": wall([sys.executable, "-c", "import sympy"], options.repeat, fresh),
            "derive xavier --latex (cached)": wall(cli, options.repeat, cached),
            "derive xavier --latex (verify afresh)": wall(cli, options.repeat, fresh),
        }
        spec = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples",
                            "hw3-initialization-zh.toml")
        sheet = [sys.executable, "-m", "derive", "sheet", spec, "-o", os.path.join(cache, "sheet")]
        rows["sheet zh handout + key .tex (cached)"] = wall(sheet, options.repeat, cached)
        rows["sheet zh handout + key .tex (verify afresh)"] = wall(sheet, options.repeat, fresh)
        if shutil.which("latexmk") and shutil.which("xelatex"):
            rows["sheet zh handout + key .tex + .pdf"] = wall([*sheet, "--pdf"], max(1, options.repeat // 2), cached)
        else:
            print("\n(no TeX on this machine: the PDF pair is not measured)")
    base = summary(rows["python -c 'import sympy'"])[0]
    print(f"\n{'process':<46}{'median s':>10}{'p95 s':>9}{'x import sympy':>16}")
    for label, times in rows.items():
        median, p95 = summary(times)
        print(f"{label:<46}{median:>10.3f}{p95:>9.3f}{median / base:>16.2f}")


if __name__ == "__main__":
    main()
