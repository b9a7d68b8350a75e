"""Checking in worker processes, each check under a hard time limit and a memory limit.

A check that overruns its time is not interrupted politely (SymPy can sit in C code or a
huge integer computation that no exception reaches): its worker is killed and replaced,
and the answer gets the verdict ``timeout``. :meth:`CheckPool.run` is safe to use from several
threads; :meth:`CheckPool.map` spreads many requests over every worker from the calling thread
alone, so that an interrupt (SIGINT, or SIGTERM turned into an exception) reaches it at once
and :meth:`CheckPool.close` (or leaving the ``with`` block) kills every worker.
"""

from __future__ import annotations

import multiprocessing
import queue
import resource
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait

from ..catalog import teacher
from ..limits import LIMITS

DEFAULT_TIMEOUT, DEFAULT_MEMORY_MB = LIMITS["check.timeout"].default, 2048
MAX_JOBS = LIMITS["grade.jobs"].value
#: The time a worker may take to get ready for a catalog entry's target (build the entry, read
#: and compare a first answer), outside the limit of the check that needed it.
WARMUP_SECONDS = 120.0
_WARMING, _READY = {"control": "warming"}, {"control": "ready"}
_STOPS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait while workers start or stop (a temporary folder half made, a
    worker not yet recorded); one that came meanwhile is delivered on leaving."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _serve(connection: Connection, memory_mb: int, catalog: str = "") -> None:
    """The worker's loop: receive a request, check it, send the result.

    The worker ignores SIGINT (a Ctrl-C reaches the whole process group; the parent decides and
    kills its workers), and ends quietly when the parent has gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # held while the pool started it
    teacher.adopt(catalog)  # the command's --catalog files (``catalog``: teacher.listed())
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from .batch import run_request

    warm: set[tuple] = set()
    while True:
        try:
            request = connection.recv()
            _warm_up(request, warm, connection)
        except (EOFError, OSError):
            return
        try:
            reply = run_request(request)
        except MemoryError:
            reply = {"verdict": "timeout", "reason": "memory"}
        except Exception as error:  # noqa: BLE001 - one request never ends the worker, nor prints a traceback
            from .batch import failed

            reply = failed(request, error)
        try:
            connection.send(reply)
        except (OSError, ValueError):
            return


def _warm_up(request: dict, warm: set[tuple], connection: Connection) -> None:
    """Before this worker's first check of a catalog entry's target (when the request asks for
    it): tell the parent, check a trivial answer (which builds the entry and SymPy's caches), and
    tell the parent again, which starts the check's own clock then."""
    from .batch import run_request

    key = (request.get("problem"), request.get("target"), request.get("log_base", "e"))
    if not request.pop("warm_up", False) or not isinstance(key[0], str) or key in warm:
        return
    warm.add(key)
    connection.send(_WARMING)
    trial = {k: request[k] for k in ("problem", "target", "lang", "log_base") if k in request}
    try:
        run_request({**trial, "answer": "0"} if isinstance(key[1], str) else {**trial, "steps": "0"})
    except Exception:  # noqa: BLE001, S110 - the real request meets the same failure and reports it
        pass
    connection.send(_READY)


class _Worker:
    def __init__(self, context, memory_mb: int):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, memory_mb, teacher.listed()), daemon=True)
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
        jobs: how many workers (checks that run at once), 1 to ``MAX_JOBS``.
        timeout: seconds a check may take before its worker is killed (``timeout`` verdict).
        memory_mb: the address-space limit of each worker.
    """

    def __init__(self, jobs: int = 1, timeout: float = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB):
        self.timeout, self.memory_mb = timeout, memory_mb
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["derive.check.batch"])
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self._slow_to_warm: set[tuple] = set()
        self._workers: list[_Worker] = []
        try:
            with _signals_held():
                for _ in range(min(max(1, jobs), MAX_JOBS)):
                    self._workers.append(_Worker(self._context, memory_mb))
        except BaseException:
            self.close()
            raise
        for worker in self._workers:
            self._idle.put(worker)

    def run(self, request: Mapping, timeout: float | None = None) -> dict:
        """Run one request in a worker; returns its reply, or a timeout verdict after
        ``timeout`` seconds (default: the pool's; a warm-up as in :meth:`map` not counted)."""
        worker = self._idle.get()
        job, lost = self._job(request, 0, timeout), True
        try:
            worker.connection.send({**request, "warm_up": job[4] not in self._slow_to_warm})
            while True:
                if not worker.connection.poll(max(0.0, job[2] - time.perf_counter())):
                    reply, lost = self._overrun(job), True
                    break
                reply, lost = worker.connection.recv(), False
                if not self._advance(job, reply):
                    break
        except (EOFError, OSError):
            reply, lost = {"verdict": "timeout", "reason": "worker"}, True
        finally:
            self._idle.put(self._replace(worker) if lost else worker)
        reply.setdefault("ms", round((time.perf_counter() - job[1]) * 1000, 2))
        return reply

    def map(self, requests: Iterable[tuple[Mapping, float | None]]) -> Iterator[dict]:
        """Run ``(request, seconds)`` pairs on every worker at once (seconds None: the pool's
        limit); yields the replies in the order of the requests. A worker's first check of a
        catalog entry's target is preceded by a warm-up of at most ``WARMUP_SECONDS``, not counted
        in the check's limit. An exception while waiting (an interrupt) closes the pool: its
        workers are killed at once."""
        idle = [self._idle.get() for _ in self._workers]
        pending = iter(enumerate(requests))
        running: dict[_Worker, list] = {}  # worker -> [index, start, deadline, seconds, key, warming]
        replies: dict[int, dict] = {}
        turn, more = 0, True
        try:
            while more or running or turn in replies:
                while idle and more:
                    item = next(pending, None)
                    if item is None:
                        more = False
                    else:
                        self._start(idle.pop(), *item, running, replies, idle)
                if running:
                    self._collect(running, replies, idle)
                while turn in replies:
                    yield replies.pop(turn)
                    turn += 1
        except GeneratorExit:  # the caller stopped early: the workers stay usable
            running = {self._replace(worker): job for worker, job in running.items()}
            raise
        except BaseException:
            self.close()
            raise
        finally:
            for worker in [*idle, *running]:
                self._idle.put(worker)

    def _start(self, worker: _Worker, index: int, job: tuple[Mapping, float | None],
               running: dict, replies: dict, idle: list) -> None:
        request, seconds = job
        job = self._job(request, index, seconds)
        try:
            worker.connection.send({**request, "warm_up": job[4] not in self._slow_to_warm})
        except OSError:
            replies[index] = {"verdict": "timeout", "reason": "worker", "ms": 0.0}
            idle.append(self._replace(worker))
            return
        running[worker] = job

    def _job(self, request: Mapping, index: int, seconds: float | None) -> list:
        """The state of a request sent: [index, start, deadline, seconds, warm-up key, warming]."""
        start, seconds = time.perf_counter(), seconds or self.timeout
        key = (request.get("problem"), request.get("target"), request.get("log_base", "e"))
        return [index, start, start + seconds, seconds, key, False]

    def _advance(self, job: list, message) -> bool:
        """Whether ``message`` is a worker's warm-up notice (then the job's clock is moved)."""
        now = time.perf_counter()
        if message == _WARMING:
            job[2], job[5] = now + max(WARMUP_SECONDS, job[3]), True
        elif message == _READY:
            job[1], job[2], job[5] = now, now + job[3], False
        else:
            return False
        return True

    def _overrun(self, job: list) -> dict:
        if job[5]:  # the warm-up overran: later checks of this target do without one
            self._slow_to_warm.add(job[4])
        return {"verdict": "timeout", "reason": "time"}

    def _collect(self, running: dict, replies: dict, idle: list) -> None:
        """Wait for the first message or the first deadline; file every reply and overrun."""
        first = min(job[2] for job in running.values())
        ready = wait([w.connection for w in running], max(0.0, first - time.perf_counter()))
        now = time.perf_counter()
        for worker in list(running):
            job = running[worker]
            if worker.connection in ready:
                try:
                    reply, lost = worker.connection.recv(), False
                except (EOFError, OSError):
                    reply, lost = {"verdict": "timeout", "reason": "worker"}, True
                if not lost and self._advance(job, reply):
                    continue
            elif now >= job[2]:
                reply, lost = self._overrun(job), True
            else:
                continue
            del running[worker]
            reply.setdefault("ms", round((now - job[1]) * 1000, 2))
            replies[job[0]] = reply
            idle.append(self._replace(worker) if lost else worker)

    def _replace(self, worker: _Worker) -> _Worker:
        worker.stop()
        if self._closed:
            return worker
        fresh = _Worker(self._context, self.memory_mb)
        with self._lock:
            self._workers[self._workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        with _signals_held():
            for worker in self._workers:
                worker.stop()

    def __enter__(self) -> CheckPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
