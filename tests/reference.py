"""Independent numeric references for the tests, written from the textbook definitions.

Nothing here imports the package's mathematics: the tests compare derived results with these.
"""

import mpmath as mp
import sympy as sp
from sympy.core.function import AppliedUndef

mp.mp.dps = 40

FUNCTIONS = {
    "sigma": lambda t: 1 / (1 + mp.exp(-t)),
    "tanh": mp.tanh,
    "Phi": lambda t: (1 + mp.erf(t / mp.sqrt(2))) / 2,
    "phi": lambda t: mp.exp(-t**2 / 2) / mp.sqrt(2 * mp.pi),
}


def evaluate(expr: sp.Basic, functions=None, **values) -> mp.mpf:
    """The number an expression stands for, with named functions computed by mpmath here.

    Symbols are given by name (``x=0.3``); a named function such as sigma(x) is evaluated by
    the reference definition above, never by the package's own meaning.
    """
    table = {**FUNCTIONS, **(functions or {})}
    by_name = {s: sp.Float(mp.nstr(values[s.name], 40), 40) for s in expr.free_symbols if s.name in values}
    expr = expr.xreplace(by_name)
    expr = expr.replace(
        lambda e: isinstance(e, AppliedUndef),
        lambda e: sp.Float(mp.nstr(table[type(e).__name__](mp.mpf(str(sp.N(e.args[0], 40)))), 40), 40))
    value = sp.N(expr, 40)
    assert value.is_number, f"{expr} did not evaluate with {values}"
    return mp.mpf(str(value))


def close(a, b, tol=mp.mpf("1e-20")) -> bool:
    """Relative closeness for well-conditioned numbers."""
    return abs(a - b) <= tol * max(1, abs(a), abs(b))
