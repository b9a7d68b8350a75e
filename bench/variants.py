"""Benchmark of ``derive sheet SPEC --variants N``: 200 students' variants of a 10-problem sheet.

Run:  python bench/variants.py [--count 200] [--repeat 3] [--pdf] [--pdf-count 200] [--jobs 2]

The sheet (written to a temporary folder) has ten problems: five with values drawn per student
(Xavier's and Kaiming's fan-ins and fan-outs, a leaky ReLU's slope, a small network's input height
and a layer's width, where half the heights make a convolution's output fractional and are drawn
again, and a 2-2-1 ReLU network's input and weight), the sigmoid's derivative, and a choice (its
options shuffled per student), a true/false, a numeric and a short question.

- .tex: ``python -m derive sheet ten.toml --variants COUNT --seed 1`` as a process (cold: Python,
  SymPy and the catalog load included), ``--repeat`` times: the median and p95 wall time, and
  variants (a handout and a key each) per second; then, in this process, where the time goes
  (drawing and building the problems, rendering, variants.json) for one run.
- ``--pdf``: the same with ``--pdf --jobs JOBS`` for ``--pdf-count`` students, once: the wall
  time, each document's TeX time (median, p95: the build_pdf calls, timed in this process) and
  PDFs per minute.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETWORK = (ROOT / "tests" / "tiny-conv.toml").read_text(encoding="utf-8")  # two convolutions, 9x9 input
SPEC = r'''title = "Bench: ten problems"
course = "Neural networks"
date = "May"
lang = "en"
[[problem]]
entry = "xavier"
targets = ["var", "uniform_bound"]
params = { n_in = { from = 64, to = 1024, step = 64 }, n_out = [128, 256, 512, 1024] }
[[problem]]
entry = "kaiming"
targets = ["var"]
params = { n_in = { from = 32, to = 2048, step = 32 } }
[[problem]]
entry = "leaky-relu"
targets = ["d1"]
params = { alpha = [0.01, 0.1, 0.2, 0.25] }
[[problem]]
network = "tiny.toml"
targets = ["params", "macs"]
params = { height = { from = 8, to = 63 }, "c2.out" = [4, 8, 16, 32] }
[[problem]]
example = "bp-221-relu"
targets = ["grad_w11", "updated_w11"]
params = { x1 = { from = 0.1, to = 0.9, step = 0.1 }, w11 = [0.3, 0.4, 0.5, 0.6] }
[[problem]]
entry = "sigmoid"
targets = ["d1"]
[[problem]]
statement = "Which is the derivative of the sigmoid?"
choice = { options = ["$\\sigma(1-\\sigma)$", "$\\sigma(1+\\sigma)$", "$1-\\sigma^2$", "$\\sigma^2$"], answer = [0] }
[[problem]]
statement = "The learning rate does not affect convergence."
truefalse = false
[[problem]]
statement = "What is $\\sigma(0)$?"
numeric = { value = "0.5", tolerance = "0.01" }
[[problem]]
statement = "Name one advantage of ReLU over the sigmoid."
short = "It does not saturate for positive inputs."
'''


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of a list of numbers."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def spec_folder(folder: Path) -> Path:
    """The bench's sheet and its network, written into ``folder``; returns the sheet's path."""
    (folder / "tiny.toml").write_text(NETWORK, encoding="utf-8")
    (folder / "ten.toml").write_text(SPEC, encoding="utf-8")
    return folder / "ten.toml"


def tex_runs(spec: Path, count: int, repeat: int) -> list[float]:
    """Wall times of ``repeat`` cold runs writing ``count`` variants as .tex."""
    times = []
    for n in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "derive", "sheet", str(spec), "--variants", str(count), "--seed", "1",
                        "-o", str(spec.parent / f"tex{n}")], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def phases(spec: Path, count: int) -> dict[str, float]:
    """Where one in-process run's time goes: drawing and building, rendering, variants.json."""
    from derive.files import read_toml
    from derive.render import render_sheet
    from derive.variant_sheets import numbered
    from derive.variants import make, record

    table, timings, views = read_toml(spec), {}, {}
    start = time.perf_counter()
    made = make(table, spec, numbered(count), 1)
    timings["draw and build"] = time.perf_counter() - start
    start = time.perf_counter()
    for variant in made:
        for layout in ("handout", "key"):
            render_sheet(variant.sheet, layout, "en", views=views)
    timings["render (handout, key)"] = time.perf_counter() - start
    start = time.perf_counter()
    targets: dict = {}
    for variant in made:
        record(variant, table, spec, cache=targets)
    timings["variants.json"] = time.perf_counter() - start
    return timings


def pdf_run(spec: Path, count: int, jobs: int) -> tuple[float, list[float]]:
    """One run with ``--pdf --jobs``: (wall time, each document's build time)."""
    from derive import pdf, variant_sheets
    from derive.commands.sheet import parser as _sheet_parser

    builds, build = [], pdf.build_pdf

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return build(*args, **kwargs)
        finally:
            builds.append(time.perf_counter() - start)

    pdf.build_pdf = timed
    options = _sheet_parser().parse_args([str(spec), "--variants", str(count), "--seed", "1", "--pdf",
                                          "--jobs", str(jobs), "-o", str(spec.parent / "pdf")])
    start = time.perf_counter()
    try:
        variant_sheets.main(options)
    finally:
        pdf.build_pdf = build
    return time.perf_counter() - start, builds


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="students for the .tex part")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pdf", action="store_true", help="also build the PDFs (minutes)")
    parser.add_argument("--pdf-count", type=int, default=200, help="students for the PDF part")
    parser.add_argument("--jobs", type=int, default=2)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="derive-bench-variants-") as folder:
        spec = spec_folder(Path(folder))
        times = tex_runs(spec, options.count, options.repeat)
        median, p95 = summary(times)
        print(f"sheet --variants {options.count} (10 problems, .tex: a handout and a key each), {options.repeat} cold "
              f"runs; {os.cpu_count()} cores")
        print(f"  median {median:.2f} s, p95 {p95:.2f} s, throughput {options.count / median:.1f} variants / s")
        timings = phases(spec, options.count)
        total = sum(timings.values())
        print(f"  in one process (imports and the catalog warm): {total:.2f} s")
        for phase, value in timings.items():
            print(f"  {phase:24}{value:>8.2f} s{value / total:>8.1%}")
        if options.pdf:
            wall, builds = pdf_run(spec, options.pdf_count, options.jobs)
            median, p95 = summary(builds)
            print(f"sheet --variants {options.pdf_count} --pdf --jobs {options.jobs}: {wall:.1f} s "
                  f"({len(builds)} PDFs and 2 combined), {60 * len(builds) / wall:.1f} PDFs / min")
            print(f"  one document's TeX run: median {median:.2f} s, p95 {p95:.2f} s")
            if options.pdf_count < 200:
                print(f"  200 students at this rate: {wall * 200 / options.pdf_count / 60:.1f} min (extrapolated)")


if __name__ == "__main__":
    main()
