"""Benchmark of start-up: `derive xavier --latex` beside a bare `import sympy`, and a key from a cold cache.

Run:  python bench/startup.py [--repeat 15] [--pdf-repeat 3] [--no-pdf] [--bytecode]

Every measurement is a fresh process: `python -c "import sympy"`; `python -m derive xavier --latex`
with a warm cache (verified derivation and compiled templates kept, see derive/cache.py) and
with a cold one (DERIVE_CACHE_DIR a new empty folder for every run); and the Chinese example
sheet (examples/hw3-initialization-zh.toml: handout and key, `derive sheet` has no key-only
option) written as .tex and as PDFs, each run from a cold cache. The commands are run in turns
(one of each per round), so that a change in the machine's load falls on all of them alike;
a warm-up first runs other inputs (sigmoid, the hw2 sheet) to load the files and fonts from
disk. Prints the median and p95 wall time, runs per second, the median CPU time (user + system,
children included: less moved by the machine's load than the wall time) and the ratio of each
median to `import sympy`'s, with the load average before and after. No time is asserted anywhere.

Python reads the bytecode of derive's modules from __pycache__ unless PYTHONDONTWRITEBYTECODE is
set (as in some shells and CI jobs): then it compiles them at every start. `--bytecode` runs every
process (`import sympy` too) with bytecode kept, in a temporary PYTHONPYCACHEPREFIX, as a
user's installed package runs; the source tree gets no __pycache__.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
KEY_SPEC = HERE / "examples" / "hw3-initialization-zh.toml"
WARMUP_SPEC = HERE / "examples" / "hw2-derivatives-zh.toml"
DERIVE = [sys.executable, "-m", "derive"]


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of a list of seconds."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict) -> tuple[float, float]:
    """The wall time and the CPU time of one run of ``command`` as a process (it must succeed)."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=HERE)
    return time.perf_counter() - start, _cpu() - cpu


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each quick command (default 15)")
    parser.add_argument("--pdf-repeat", type=int, default=3, help="runs of the PDF build (default 3)")
    parser.add_argument("--no-pdf", action="store_true", help="do not build PDFs")
    parser.add_argument("--bytecode", action="store_true",
                        help="keep compiled bytecode (a temporary PYTHONPYCACHEPREFIX), as an installed package runs")
    options = parser.parse_args()
    pdf = not options.no_pdf and all(shutil.which(tool) for tool in ("latexmk", "xelatex"))
    base_env = {key: value for key, value in os.environ.items() if key != "DERIVE_NO_CACHE"}

    with tempfile.TemporaryDirectory(prefix="derive-startup-") as scratch:
        scratch = Path(scratch)
        if options.bytecode:
            base_env.pop("PYTHONDONTWRITEBYTECODE", None)
            base_env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
        counter = iter(range(10**9))

        def cold() -> dict:
            """An environment whose derive cache is a new, empty folder."""
            return {**base_env, "DERIVE_CACHE_DIR": str(scratch / f"cold-{next(counter)}")}

        warm = {**base_env, "DERIVE_CACHE_DIR": str(scratch / "warm")}
        out = str(scratch / "out")
        cases = {
            "python -c 'import sympy'": (lambda: [sys.executable, "-c", "import sympy"], lambda: base_env),
            "derive xavier --latex (warm cache)": (lambda: [*DERIVE, "xavier", "--latex"], lambda: warm),
            "derive xavier --latex (cold cache)": (lambda: [*DERIVE, "xavier", "--latex"], cold),
            "sheet hw3-zh handout + key .tex (cold)": (lambda: [*DERIVE, "sheet", str(KEY_SPEC), "-o", out], cold),
        }
        if pdf:
            cases["sheet hw3-zh handout + key .pdf (cold)"] = (
                lambda: [*DERIVE, "sheet", str(KEY_SPEC), "--pdf", "-o", out], cold)

        print(f"load average before: {load()}  (cores: {os.cpu_count()})")
        if "PYTHONDONTWRITEBYTECODE" in base_env:
            print("PYTHONDONTWRITEBYTECODE is set: derive's own modules are compiled at every start "
                  "(see --bytecode)")
        for command in ([*DERIVE, "sigmoid", "--latex"], [*DERIVE, "sheet", str(WARMUP_SPEC), "-o", out],
                        *([[*DERIVE, "sheet", str(WARMUP_SPEC), "--pdf", "-o", out]] if pdf else []),
                        [sys.executable, "-c", "import sympy"]):
            timed(command, cold())
        timed([*DERIVE, "xavier", "--latex"], warm)  # the warm cache holds xavier and its templates

        times: dict[str, list[tuple[float, float]]] = {label: [] for label in cases}
        for round_number in range(options.repeat):
            for label, (command, env) in cases.items():
                if label.endswith(".pdf (cold)") and round_number >= options.pdf_repeat:
                    continue
                times[label].append(timed(command(), env()))
        print(f"load average after:  {load()}")

    base = {column: statistics.median(run[column] for run in times["python -c 'import sympy'"]) for column in (0, 1)}
    print(f"\n{'process':<42}{'runs':>5}{'median s':>10}{'p95 s':>8}{'runs/s':>8}{'cpu s':>8}"
          f"{'x import sympy':>16}{'(cpu)':>7}")
    for label, samples in times.items():
        median, p95 = summary([wall for wall, _ in samples])
        cpu = statistics.median(cpu for _, cpu in samples)
        print(f"{label:<42}{len(samples):>5}{median:>10.3f}{p95:>8.3f}{1 / median:>8.2f}{cpu:>8.3f}"
              f"{median / base[0]:>16.2f}{cpu / base[1]:>7.2f}")


if __name__ == "__main__":
    main()
