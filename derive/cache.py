"""A disk cache of verified derivations, so that a repeated command need not verify again.

An entry is keyed by a hash of the package's own source and the versions of Python and
SymPy: any change to the code that derives or verifies a result makes a new key. Set
``DERIVE_NO_CACHE=1`` to derive and verify afresh; ``DERIVE_CACHE_DIR`` moves the cache.

The compiled Jinja templates are kept in the same folder (:class:`TemplateCache`), so that a
command does not compile its templates at every start.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import IO

import jinja2
import sympy as sp

from .engine import Derivation

PACKAGE = Path(__file__).resolve().parent


@functools.cache
def _key() -> str:
    digest = hashlib.sha256(f"{sys.version}|{sp.__version__}".encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def folder() -> Path | None:
    """Where verified derivations are kept, or None when caching is switched off."""
    if os.environ.get("DERIVE_NO_CACHE"):
        return None
    base = os.environ.get("DERIVE_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "derive"
    return Path(base) / _key()


def _file(name: str, key: str | None) -> str:
    """A derivation's file: its name (a built-in entry), or its key: a teacher's entry by the hash of its
    content (``teacher-HASH``), so that another file's entry of the same name, or the same entry edited, is
    derived afresh; an entry's other form (``rules-NAME``)."""
    return f"{name}.pickle" if key is None else f"{key}.pickle"


def load(name: str, key: str | None = None) -> Derivation | None:
    """The cached derivation called ``name`` (with ``key``: a teacher's entry of that content hash), or
    None (missing, unreadable or switched off)."""
    where = folder()
    if where is None:
        return None
    try:
        with (where / _file(name, key)).open("rb") as handle:
            derivation = pickle.load(handle)
    except Exception:  # noqa: BLE001 - whatever a damaged entry raises, it is derived afresh
        return None
    return derivation if isinstance(derivation, Derivation) and derivation.name == name else None


def store(derivation: Derivation, key: str | None = None) -> None:
    """Keep a verified derivation (``key``: a teacher's entry's content hash, see :func:`load`); a cache
    that cannot be written is silently skipped."""
    where = folder()
    if where is not None:
        _write(where / _file(derivation.name, key),
               lambda stream: pickle.dump(derivation, stream, protocol=pickle.HIGHEST_PROTOCOL))


def _write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write a cache file whole (a temporary file renamed into place); a cache that cannot be
    written, or an object that cannot be kept, is silently skipped."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
        temporary = None
    except Exception:  # noqa: BLE001, S110 - a cache is an optimisation, never an error of the command
        pass
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


class TemplateCache(jinja2.BytecodeCache):
    """Compiled Jinja templates, kept in ``templates-JINJA_VERSION/`` of the cache folder.

    An entry is found by the template's name and file path and by the environment's settings
    that the compiled code depends on (see :func:`_compiled_with`), and used only if a hash of
    the template's text is the one it was compiled from (Jinja checks it): an edited template, a
    template pack's file of the same name, or the same file compiled by another environment is
    compiled afresh. The folder is looked up at every use, so ``DERIVE_NO_CACHE`` and
    ``DERIVE_CACHE_DIR`` take effect at once; a damaged entry is compiled again.
    """

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None,
                   source: str) -> jinja2.bccache.Bucket:
        """The entry of template ``name`` as ``environment`` compiles it, loaded if it is kept."""
        return super().get_bucket(environment, f"{_compiled_with(environment)}|{name}", filename, source)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Fill ``bucket`` from the cache, or leave it empty."""
        path = self._path(bucket)
        if path is None:
            return
        try:
            with path.open("rb") as handle:
                bucket.load_bytecode(handle)
        except Exception:  # noqa: BLE001 - whatever a damaged entry raises, it is compiled afresh
            bucket.reset()
        if bucket.code is not None and not isinstance(bucket.code, types.CodeType):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep the compiled template of ``bucket``."""
        path = self._path(bucket)
        if path is not None:
            _write(path, bucket.write_bytecode)

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        """The entry's name: from the template's name and its file, as given and made absolute
        (a compiled template remembers its file's name for error messages)."""
        return super().get_cache_key(name, filename and f"{os.path.abspath(filename)}|{filename}")

    @staticmethod
    def _path(bucket: jinja2.bccache.Bucket) -> Path | None:
        where = folder()
        return None if where is None else where / f"templates-{jinja2.__version__}" / f"{bucket.key}.cache"


def _compiled_with(environment: jinja2.Environment) -> str:
    """A hash of what Jinja's compiled code depends on besides the template's text: the
    environment's class and sandbox, its syntax, escaping, and how each filter and test is called."""
    def passes(table: dict) -> list:
        return sorted((name, str(getattr(function, "jinja_pass_arg", ""))) for name, function in table.items())

    syntax = [getattr(environment, setting) for setting in (
        "block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
        "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
        "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized", "is_async")]
    settings = (type(environment).__module__, type(environment).__qualname__, getattr(environment, "sandboxed", False),
                sorted(getattr(environment, "intercepted_binops", ())), sorted(getattr(environment, "intercepted_unops", ())),
                syntax, sorted(environment.extensions), getattr(environment.finalize, "__qualname__", None),
                getattr(environment.autoescape, "__qualname__", environment.autoescape),
                passes(environment.filters), passes(environment.tests))
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:16]
