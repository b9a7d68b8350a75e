"""The command line: ``python -m derive NAME [--latex | --md | --json | --pdf] ...`` or
``python -m derive COMMAND ...``, one of the table :data:`derive.commands.COMMANDS`.

This module dispatches, takes ``--catalog`` out of every command line, turns signals into one line
and ends the process; each command lives in its module of :mod:`derive.commands` and imports
what only it needs when it runs, so that ``python -m derive NAME`` starts as fast as SymPy allows.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from .errors import DeriveError, UsageError


def _catalog_files(argv: list[str]) -> tuple[list[str], list[str]]:
    """Take every ``--catalog FILE`` (or ``--catalog=FILE``) out of ``argv``, wherever it stands: a global
    option of every command (a teacher's catalog file, see :mod:`derive.catalog.teacher`)."""
    rest, files, given = [], [], iter(argv)
    for word in given:
        if word == "--catalog":
            files.append(next(given, None))
            if files[-1] is None or files[-1].startswith("--"):
                raise UsageError("--catalog needs a file: --catalog FILE.toml")
        elif word.startswith("--catalog="):
            files.append(word.split("=", 1)[1])
        else:
            rest.append(word)
    return rest, files


def run(argv: list[str]) -> int:
    """Dispatch one command, with the entries of its ``--catalog`` files; raises DeriveError on bad input."""
    from .catalog.teacher import catalogs

    argv, files = _catalog_files(argv)
    with catalogs(files):
        return _dispatch(argv)


def _dispatch(argv: list[str]) -> int:
    """Dispatch one command by the table of commands; raises DeriveError on bad input."""
    from .commands import BY_NAME, DERIVATION, top_help

    if not argv or argv[0] in ("-h", "--help"):
        print(top_help(), end="")
        return 0 if argv else 2
    command = BY_NAME.get(argv[0])
    return command(argv[1:]) if command is not None else DERIVATION(argv)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that every ``with`` and ``finally`` cleans up."""


def _stop(number: int, frame) -> None:
    # Once: a second signal must not cut short the cleaning up the first one started.
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, signal.SIG_IGN)
    raise _Terminated() if number == signal.SIGTERM else KeyboardInterrupt()


def _catch_signals() -> dict:
    """Turn SIGINT and SIGTERM into exceptions (unless they are ignored, as under nohup);
    returns the handlers to put back. Only the main thread can do this."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for number, default in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)):
        if signal.getsignal(number) is default:
            previous[number] = signal.signal(number, _stop)
    return previous


def cli(args: list[str] | None = None) -> int:
    """Run the command line with ``args`` (default: ``sys.argv[1:]``); return the exit status.

    Bad input prints one line, ``derive: error: ...``, on standard error and returns 2.
    SIGINT and SIGTERM print one line and return 130 and 143, after every temporary file and
    folder is removed (files being written are left whole or untouched).
    """
    previous = _catch_signals()
    try:
        return run(list(sys.argv[1:] if args is None else args))
    except DeriveError as error:
        print(f"derive: error: {' '.join(str(error).splitlines())}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, _Terminated)
        print(f"derive: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return 143 if terminated else 130
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def main() -> None:
    """Entry point of the ``derive`` console script."""
    try:
        status = cli()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of our output went away (``derive ... | head``): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    _exit(status)


def _exit(status: int) -> None:
    """End the process with ``status``, without Python's teardown when nothing else runs.

    Freeing every SymPy object one by one at exit takes a fifth of a second, longer than a
    cached command's own work. Every file and temporary folder is closed by then (``with``),
    and the exit handlers (``atexit``: multiprocessing, logging, ``weakref.finalize``) still run;
    with another thread alive, Python exits as usual and waits for it."""
    if threading.active_count() > 1:
        sys.exit(status)
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)
