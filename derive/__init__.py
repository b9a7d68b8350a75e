"""derive: derivations for neural-network courses, every step produced and verified by SymPy.

The public names load SymPy when first used, not at ``import derive``: so ``python -m derive``
can set up its signal handling before the slow import starts (see ``derive/__main__.py``).
"""

from .errors import DeriveError, UsageError, VerificationError

__all__ = ["ENTRIES", "Derivation", "DeriveError", "Step", "Target", "UsageError",
           "VerificationError", "get", "names"]

_LAZY = {"ENTRIES": "catalog", "get": "catalog", "Derivation": "engine", "Step": "engine", "Target": "engine"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'derive' has no attribute {name!r}")


def names() -> list[str]:
    """The CLI names of every catalog entry."""
    from .catalog import ENTRIES

    return [entry.name for entry in ENTRIES]
