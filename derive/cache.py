"""A disk cache of verified derivations, so that a repeated command need not verify again.

An entry is keyed by a hash of the package's own source and the versions of Python and
SymPy: any change to the code that derives or verifies a result makes a new key. Set
``DERIVE_NO_CACHE=1`` to derive and verify afresh; ``DERIVE_CACHE_DIR`` moves the cache.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path

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


#: Rebuilt from their arguments as stored, not evaluated again: a display form (an unevaluated
#: product, sum or case split, see Builder.show) keeps the reader's order; a canonical one is unchanged.
_AS_BUILT = frozenset({sp.Add, sp.Mul, sp.Pow, sp.Piecewise, sp.Abs, sp.sign})


def _as_built(kind: type, args: tuple) -> sp.Basic:
    return kind(*args, evaluate=False)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        return (_as_built, (type(obj), obj.args)) if type(obj) in _AS_BUILT else NotImplemented


def load(name: str) -> Derivation | None:
    """The cached derivation called ``name``, or None (missing, unreadable or switched off)."""
    where = folder()
    if where is None:
        return None
    try:
        with (where / f"{name}.pickle").open("rb") as handle:
            derivation = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return derivation if isinstance(derivation, Derivation) and derivation.name == name else None


def store(derivation: Derivation) -> None:
    """Keep a verified derivation; a cache that cannot be written is silently skipped."""
    where = folder()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=where, suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            _Pickler(stream, protocol=pickle.HIGHEST_PROTOCOL).dump(derivation)
        os.replace(temporary, where / f"{derivation.name}.pickle")
    except OSError:
        return
