"""Benchmark of worked backpropagation: the seed examples, and generated chains of nodes.

Run:  python bench/backprop.py [--repeat 5]

Prints the median and p95 time to run each seed example (forward, gradients, the SGD step,
everything verified), and chains of 250, 500 and 1,000 nodes with the time per node, to show
whether growth in the number of nodes is linear.
"""

from __future__ import annotations

import argparse
import statistics
import time

from derive.backprop.graph import graph_from, run
from derive.catalog.examples import EXAMPLES


def chain(length: int) -> dict:
    """h_k = relu(w_k h_{k-1} + b_k) for k = 1..length, then a squared-error loss (exact rationals)."""
    nodes = {"h0": "x"}
    for k in range(1, length + 1):
        nodes[f"h{k}"] = f"relu(w{k}*h{k - 1} + b{k})"
    nodes["L"] = f"(h{length} - y)^2/2"
    return {"name": f"chain-{length}", "inputs": {"x": 0.5, "y": 0.2},
            "params": {**{f"w{k}": 1 + (k % 3) / 100 for k in range(1, length + 1)},
                       **{f"b{k}": -0.01 for k in range(1, length + 1)}}, "nodes": nodes, "loss": "L",
            "learning_rate": 0.1, "steps": 1}


def timed(spec: dict, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run(graph_from(spec, spec["name"]))
        times.append(time.perf_counter() - start)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    cases = [(name, {"name": name, **{k: v for k, v in e.items() if k not in ("kind", "published")}})
             for name, e in EXAMPLES.items() if e["kind"] == "backprop"]
    cases += [(f"chain-{n}", chain(n)) for n in (250, 500, 1000)]
    print(f"{'problem':18}{'nodes':>7}{'median s':>10}{'p95 s':>8}{'ms/node':>9}")
    for name, spec in cases:
        times = timed(spec, options.repeat if not name.startswith("chain") else max(1, options.repeat // 2))
        median = statistics.median(times)
        nodes = len(spec["nodes"])
        print(f"{name:18}{nodes:>7}{median:>10.3f}{times[round(0.95 * (len(times) - 1))]:>8.3f}"
              f"{1000 * median / nodes:>9.2f}")


if __name__ == "__main__":
    main()
