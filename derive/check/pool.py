"""Checking in worker processes, each check under a hard time limit and a memory limit.

A check that overruns its time is not interrupted politely (SymPy can sit in C code or a
huge integer computation that no exception reaches): its worker is killed and replaced,
and the answer gets the verdict ``timeout``. The pool is safe to use from several threads.
"""

from __future__ import annotations

import multiprocessing
import queue
import resource
import threading
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection

DEFAULT_TIMEOUT, DEFAULT_MEMORY_MB = 5.0, 2048


def _serve(connection: Connection, memory_mb: int) -> None:
    """The worker's loop: receive a request, check it, send the result."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from .batch import run_request

    while True:
        try:
            request = connection.recv()
        except (EOFError, KeyboardInterrupt):
            return
        try:
            reply = run_request(request)
        except MemoryError:
            reply = {"verdict": "timeout", "reason": "memory"}
        connection.send(reply)


class _Worker:
    def __init__(self, context, memory_mb: int):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, memory_mb), daemon=True)
        self.process.start()
        child.close()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class CheckPool:
    """A fixed number of worker processes that check answers.

    Args:
        jobs: how many workers (checks that run at once).
        timeout: seconds a check may take before its worker is killed (``timeout`` verdict).
        memory_mb: the address-space limit of each worker.
    """

    def __init__(self, jobs: int = 1, timeout: float = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB):
        self.timeout, self.memory_mb = timeout, memory_mb
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["derive.check.batch"])
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers = [_Worker(self._context, memory_mb) for _ in range(max(1, jobs))]
        for worker in self._workers:
            self._idle.put(worker)

    def run(self, request: Mapping, timeout: float | None = None) -> dict:
        """Run one request in a worker; returns its reply, or a timeout verdict after
        ``timeout`` seconds (default: the pool's)."""
        worker = self._idle.get()
        start = time.perf_counter()
        try:
            worker.connection.send(dict(request))
            if worker.connection.poll(timeout or self.timeout):
                reply = worker.connection.recv()
            else:
                reply = {"verdict": "timeout", "reason": "time"}
                worker = self._replace(worker)
        except (EOFError, OSError, BrokenPipeError):
            reply = {"verdict": "timeout", "reason": "worker"}
            worker = self._replace(worker)
        finally:
            self._idle.put(worker)
        reply.setdefault("ms", round((time.perf_counter() - start) * 1000, 2))
        return reply

    def _replace(self, worker: _Worker) -> _Worker:
        worker.stop()
        fresh = _Worker(self._context, self.memory_mb)
        with self._lock:
            self._workers[self._workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            worker.stop()

    def __enter__(self) -> CheckPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
