"""The exceptions `derive` raises. Every user-facing one prints as a single line."""


class DeriveError(Exception):
    """Base class of every error `derive` raises on purpose."""

    exit_code = 2


class UsageError(DeriveError):
    """Bad input from the user: an unknown name, a malformed parameter, a bad option."""


class UnknownNameError(UsageError):
    """A name (derivation, target, parameter) that does not exist; may carry a suggestion."""

    def __init__(self, kind: str, name: str, known, where: str = ""):
        import difflib

        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(known)}"
        place = f" in '{where}'" if where else ""
        super().__init__(f"unknown {kind} '{name}'{place}{hint}")
        self.name = name
        self.suggestion = close[0] if close else None


class VerificationError(DeriveError):
    """A step of a derivation does not follow from the one before it."""

    exit_code = 1
