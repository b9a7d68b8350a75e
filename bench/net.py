"""Benchmark of the network arithmetic: ResNet-18, ResNet-152, and generated deep networks.

Run:  python bench/net.py [--repeat 5]

Prints the median and p95 time to analyse (compute and verify every step of) ResNet-18,
ResNet-152 and generated plain networks of 250, 500 and 1,000 convolution layers, and the
time per layer, to show whether growth is linear.
"""

from __future__ import annotations

import argparse
import statistics
import time

from derive.architecture.arithmetic import analyse
from derive.architecture.spec import network_from
from derive.catalog import architectures


def generated(depth: int):
    """A plain network of ``depth`` 3x3 convolutions (each with batch norm and ReLU) on 32x32x16."""
    layers = []
    for index in range(depth):
        layers += [{"type": "conv", "name": f"conv{index}", "out": 16, "kernel": 3, "padding": 1, "bias": False},
                   {"type": "bn", "name": f"bn{index}"}, {"type": "relu", "name": f"relu{index}"}]
    layers += [{"type": "gap"}, {"type": "flatten"}, {"type": "linear", "out": 10}]
    return network_from({"name": f"plain-{depth}", "input": [32, 32, 16], "layer": layers}, f"plain-{depth}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    cases = [("resnet18", architectures.builtin("resnet18")), ("resnet152", architectures.builtin("resnet152")),
             *((f"plain-{n}", generated(n)) for n in (250, 500, 1000))]
    print(f"{'network':12}{'layers':>8}{'steps':>8}{'median s':>10}{'p95 s':>8}{'ms/layer':>10}")
    for name, network in cases:
        times = []
        for _ in range(options.repeat):
            start = time.perf_counter()
            report = analyse(network)
            times.append(time.perf_counter() - start)
        ordered = sorted(times)
        median = statistics.median(ordered)
        layers = len(report.rows)
        print(f"{name:12}{layers:>8}{len(report.derivation.steps):>8}{median:>10.3f}"
              f"{ordered[round(0.95 * (len(ordered) - 1))]:>8.3f}{1000 * median / layers:>10.2f}")


if __name__ == "__main__":
    main()
