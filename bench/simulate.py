"""Benchmark of ``derive simulate``: depth 30, width 512, batch 4096, float64.

Run:  python bench/simulate.py [--repeat 5] [--act relu] [--init kaiming]

Times the whole simulation (weights and inputs drawn, forward and backward passes, the
prediction by quadrature) ``--repeat`` times in one process, after one untimed warm-up run, and
prints the median, the p95 and the throughput in samples x layers per second (batch x depth,
forward and backward together), then where the time goes: each phase measured with
time.perf_counter around it inside ``derive.simulate.simulate`` (those of the median run), and the
catalog's loading once cold (derived and verified afresh, as with DERIVE_NO_CACHE=1) and as the
warm runs see it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

PHASES = ("catalog", "draws", "forward_matmul", "activation", "backward_matmul", "sums", "prediction")


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--act", default="relu")
    parser.add_argument("--init", default="kaiming")
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--batch", type=int, default=4096)
    options = parser.parse_args()

    os.environ["DERIVE_NO_CACHE"] = "1"       # the first catalog load is a cold derivation
    start = time.perf_counter()
    from derive import catalog
    from derive.simulate import ACTIVATIONS, INITS, parse_config, simulate
    imports = time.perf_counter() - start
    config = parse_config(options.act, options.init, options.depth, options.width, options.batch)
    start = time.perf_counter()
    catalog.get(ACTIVATIONS[config.act])
    if config.init in INITS:
        catalog.get(INITS[config.init])
    cold_catalog = time.perf_counter() - start

    simulate(config)                          # warm-up: BLAS threads, lambdified activation
    runs = []
    for _ in range(options.repeat):
        timings: dict[str, float] = {}
        start = time.perf_counter()
        simulate(config, timings)
        runs.append((time.perf_counter() - start, timings))
    ordered = sorted(total for total, _ in runs)
    median = statistics.median(ordered)
    middle = sorted(runs, key=lambda run: run[0])[(len(runs) - 1) // 2]      # the median run, phase by phase
    p95 = ordered[round(0.95 * (len(ordered) - 1))]
    work = config.batch * config.depth
    print(f"simulate --act {config.act_name} --init {config.init_name} --depth {config.depth} --width {config.width} "
          f"--batch {config.batch} (float64), {options.repeat} runs after one warm-up; "
          f"{os.cpu_count()} cores, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"  median {median:.3f} s, p95 {p95:.3f} s, "
          f"throughput {work / median:,.0f} samples x layers / s ({work:,} per run)")
    print(f"  import numpy, sympy, derive: {imports:.2f} s; catalog cold (derive and verify "
          f"{ACTIVATIONS[config.act]}{', ' + INITS[config.init] if config.init in INITS else ''}): {cold_catalog:.2f} s")
    print(f"  phases of the median run ({middle[0]:.3f} s):")
    for phase in PHASES:
        value = middle[1].get(phase, 0.0)
        print(f"  {phase:18}{value:>8.3f} s{value / middle[0]:>8.1%}")
    rest = middle[0] - sum(middle[1].values())
    print(f"  {'(outside phases)':18}{rest:>8.3f} s{rest / middle[0]:>8.1%}")
    # forward: depth products (rows x width) @ (width x width); backward: depth - 2 (the top one is a vector)
    flops = 2 * config.batch * config.width**2 * (2 * config.depth - 2)
    matmul = middle[1].get("forward_matmul", 0.0) + middle[1].get("backward_matmul", 0.0)
    print(f"  matrix products: {flops / 1e9:.1f} GFLOP at {flops / matmul / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
