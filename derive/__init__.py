"""derive: derivations for neural-network courses, every step produced and verified by SymPy."""

from .catalog import ENTRIES, get
from .engine import Derivation, Step, Target
from .errors import DeriveError, UsageError, VerificationError

__all__ = ["ENTRIES", "Derivation", "DeriveError", "Step", "Target", "UsageError",
           "VerificationError", "get", "names"]


def names() -> list[str]:
    """The CLI names of every catalog entry."""
    return [entry.name for entry in ENTRIES]
