"""Load run of `derive serve`: many check requests from concurrent clients, on loopback only.

Run:  python bench/web.py [--requests 2000] [--clients 20] [--jobs 2] [--seconds 300]

Starts `python -m derive serve --host 127.0.0.1 --port 0 --rate 0 --jobs N` (no rate limit: one
client address sends everything), warms each worker on every target once (made-up answers, not
counted), then sends two batches of REQUESTS `POST /api/check` requests from CLIENTS threads, each
a keep-alive `http.client` connection, as bench/grade.py's two batches:

- all distinct: bench/grade.py's right and wrong forms with a coefficient k = 1, 2, ..., every
  request a different answer, so every one is a check in a worker;
- a class: bench/grade.py's 4 answers to sigmoid d1 (two right, two wrong) round robin, as a class
  that writes the same few answers; the server answers an identical request from memory.

Each run is bounded: at most 10,000 requests, 64 clients, and SECONDS of wall time, after which
the clients stop.

Prints, for each batch, the throughput (requests per second of wall time), the median and p95 latency of one
request as the client saw it (queueing behind the other clients included), the verdicts, and the
count of answers that are neither 200 nor 429 (the aim: 0), beside the aims (median under 50 ms,
p95 under 300 ms).
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from grade import FORMS, SAME, summary

MAX_REQUESTS, MAX_CLIENTS = 10_000, 64


def start(jobs: int) -> tuple[subprocess.Popen, str, int]:
    """The server process, its host and port (read from the line it prints)."""
    process = subprocess.Popen([sys.executable, "-m", "derive", "serve", "--host", "127.0.0.1", "--port", "0",
                                "--rate", "0", "--jobs", str(jobs)], cwd=HERE.parent, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if "serving on http://" not in line:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    host, port = line.split("http://")[1].split("/")[0].split(":")
    return process, host, int(port)


def body(n: int) -> bytes:
    """The n-th request of the distinct batch: a form of FORMS with k = n // len(FORMS) + 1."""
    problem, target, form = FORMS[n % len(FORMS)]
    k = n // len(FORMS) + 1
    return json.dumps({"problem": problem, "target": target,
                       "answer": form.format(k=k, k1=k + 1, k2=2 * k)}).encode()


def same(n: int) -> bytes:
    """The n-th request of the class batch: one of 4 answers, round robin."""
    problem, target, answer = SAME[n % len(SAME)]
    return json.dumps({"problem": problem, "target": target, "answer": answer}).encode()


class Client:
    """One keep-alive connection; each request's (status, verdict, seconds)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.connection = http.client.HTTPConnection(host, port, timeout=60)

    def post(self, data: bytes) -> tuple[int, str, float]:
        """One check; a dropped connection is opened again (and that request counted as failed)."""
        start = time.perf_counter()
        try:
            self.connection.request("POST", "/api/check", body=data, headers={"Content-Type": "application/json"})
            response = self.connection.getresponse()
            answer = json.loads(response.read())
            return response.status, answer.get("verdict", "-"), time.perf_counter() - start
        except (OSError, http.client.HTTPException, ValueError):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            return 0, "-", time.perf_counter() - start


def run(host: str, port: int, requests: int, clients: int, seconds: float, make=body) -> tuple[list, float]:
    """Every request's (status, verdict, seconds) (``make(n)``: the n-th request), and the wall time."""
    counter, lock, deadline = iter(range(requests)), threading.Lock(), time.perf_counter() + seconds
    results: list[tuple[int, str, float]] = []

    def work(_: int) -> None:
        client = Client(host, port)
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            outcome = client.post(make(n))
            with lock:
                results.append(outcome)
        client.connection.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, range(clients)))
    return results, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help=f"check requests (default 2000, at most {MAX_REQUESTS:,})")
    parser.add_argument("--clients", type=int, default=20, help=f"concurrent clients (default 20, at most {MAX_CLIENTS})")
    parser.add_argument("--jobs", type=int, default=2, help="the server's worker processes (default 2)")
    parser.add_argument("--seconds", type=float, default=300, help="the most wall time of the run (default 300)")
    options = parser.parse_args()
    requests, clients = min(max(options.requests, 1), MAX_REQUESTS), min(max(options.clients, 1), MAX_CLIENTS)
    process, host, port = start(options.jobs)
    try:
        warm = Client(host, port)
        for _ in range(options.jobs):  # each worker's first check of each target builds its entry
            for n in range(len(FORMS)):
                warm.post(body(MAX_REQUESTS * len(FORMS) + n))
        warm.connection.close()
        runs = {label: run(host, port, requests, clients, options.seconds, make)
                for label, make in (("all distinct", body), ("a class: 4 answers", same))}
    finally:
        process.terminate()
        process.wait(30)
    print(f"derive serve --jobs {options.jobs} --rate 0, {clients} clients (keep-alive), loopback {host}")
    print(f"\n{'batch':<20}{'requests':>9}{'wall s':>9}{'req/s':>8}{'median ms':>11}{'p95 ms':>9}"
          f"{'not 200/429':>13}   verdicts")
    for label, (results, wall) in runs.items():
        statuses = Counter(status for status, _, _ in results)
        median, p95 = summary([seconds * 1000 for _, _, seconds in results])
        verdicts = ", ".join(f"{count} {verdict}"
                             for verdict, count in sorted(Counter(v for _, v, _ in results).items()))
        failed = sum(count for status, count in statuses.items() if status not in (200, 429))
        print(f"{label:<20}{len(results):>9}{wall:>9.2f}{len(results) / wall:>8.1f}{median:>11.1f}{p95:>9.1f}"
              f"{failed:>13}   {verdicts}"
              + ("" if len(results) == requests else f" (stopped at {options.seconds:g} s)"))
    print("\naims: median < 50 ms, p95 < 300 ms, 0 answers neither 200 nor 429")


if __name__ == "__main__":
    main()
