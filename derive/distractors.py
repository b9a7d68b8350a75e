"""Generated options of a choice question on a derivation's target: the right answer and the
slips the checker's feedback knows for that target, each verified unequal by SymPy."""

from __future__ import annotations

from .errors import UsageError


def options(derivation, target: str, values: dict, count: int) -> list[str]:
    """The options (right answer first) of a choice on ``target``: ``$LaTeX$`` strings."""
    raise UsageError("distractors = \"slips\" is not available yet")
