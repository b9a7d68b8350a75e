"""Benchmark of `derive diff`: the functions of tests/test_diff.py, each derived rule by rule.

Run:  DERIVE_NO_CACHE=1 python bench/diff.py [--order 1|2] [--repeat N]

Each function's derivation (``function_derivation``: reading, every rule step verified, the
simplification and the rewrite in named functions) is timed in this process with a cold disk
cache (set DERIVE_NO_CACHE=1; a function's derivation is never cached by name anyway) after one
warm-up derivation of an unrelated function (SymPy's imports). SymPy's own caches are cleared
before each function, so that no function profits from the one before. Prints each function's
seconds and steps, then the median and the max per derivation. No test asserts a time; the goal
(issue 18) is under 0.5 s each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> None:
    """Time every function of the test table; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--order", type=int, choices=(1, 2), default=1)
    parser.add_argument("--repeat", type=int, default=1, help="derive each this many times (the best is kept)")
    options = parser.parse_args()
    from sympy.core.cache import clear_cache
    from test_diff import FUNCTIONS

    from derive.differentiate import function_derivation

    function_derivation("warm", r"f(x) = x^2 + 1", 1)
    times = {}
    seen = set()
    for name, (latex, _, _, order) in FUNCTIONS.items():
        if latex in seen:
            continue
        seen.add(latex)
        best = None
        for _ in range(options.repeat):
            clear_cache()
            start = time.perf_counter()
            derivation = function_derivation(name, latex, min(order, options.order))
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        times[name] = best
        print(f"{name:24} {best:7.3f} s  {len(derivation.steps):3} steps")
    values = sorted(times.values())
    print(f"\n{len(values)} functions, order {options.order}: median {statistics.median(values):.3f} s, "
          f"max {values[-1]:.3f} s ({max(times, key=times.get)}), "
          f"under 0.5 s: {sum(v < 0.5 for v in values)}/{len(values)}")


if __name__ == "__main__":
    main()
