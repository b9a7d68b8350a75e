"""The error of a unit, δ_n = ∂E/∂n, as seed 000 2.1 uses it (its g_j at the output unit).

Where several parameters' chain-rule products share the path from the loss down to a node n,
the key writes that shared part once, δ_n = ∂E/∂y ∂y/∂β = ... (one line), and each gradient as
δ_n times the rest of its path (∂E/∂w = δ_β ∂β/∂w = (−0.226) × 0.18). A δ is placed at the deepest
node of each shared stretch (β₁ for all six parameters of 2.1, α₁ for v₁₁ and v₂₁). The values
are the products of the run's exact local derivatives; every rewritten gradient is checked equal
to the run's. A group with a product of more than one path (a sum) is left as it is.
"""

from __future__ import annotations

import dataclasses
import re

import sympy as sp

from ..errors import VerificationError
from ..notation import Quantity


def _mark(label: str) -> str:
    """A label's LaTeX mark, as the run's quantities carry it (' after a step, (s) of sample s)."""
    from .graph import _mark as mark  # graph imports this module

    return mark(label)


def _split(factor: sp.Symbol) -> tuple[str, str]:
    top, _, below = factor.name[1:].partition("/d")
    return top, below


def _path(record) -> list[sp.Symbol] | None:
    """The factors of a one-path chain-rule product in path order (loss first), or None."""
    factors = list(sp.Mul.make_args(record.formula))
    if not all(isinstance(f, sp.Symbol) and "/d" in f.name and f in record.values for f in factors):
        return None
    return factors


def _product(values) -> sp.Basic:
    result = sp.Integer(1)
    for value in values:
        result *= value
    return result


def with_deltas(group: list, latex: dict[str, str]) -> tuple[list, list[Quantity]]:
    """A run of consecutive chain-rule records rewritten with the errors δ of their shared nodes:
    the records to show, in order (each δ before its first use; a rewritten gradient has
    ``toward="delta"``), and the δ quantities (``latex``: a node's name -> its LaTeX)."""
    paths = [_path(r) for r in group]
    if any(p is None for p in paths):
        return list(group), []
    through: dict[str, set[int]] = {}
    for index, factors in enumerate(paths):
        for factor in factors[:-1]:
            through.setdefault(_split(factor)[1], set()).add(index)
    shown, quantities, defined = [], [], {}
    for index, (record, factors) in enumerate(zip(group, paths, strict=True)):
        nodes = [_split(f)[1] for f in factors[:-1]]
        # a δ at the first node below the loss would only rename its one factor ∂E/∂n
        points = [k for k, node in enumerate(nodes) if k > 0 and len(through[node]) >= 2 and (
            k + 1 == len(nodes) or through[nodes[k + 1]] != through[node])]
        if not points:
            shown.append(record)
            continue
        previous = None
        for k in points:
            node = nodes[k]
            if node not in defined:
                label = re.search(r"(\+\d*)?(\[\d+\])?$", record.lhs.name).group(0)  # after a step, of a sample
                symbol = sp.Symbol(f"delta_{node}{label}")
                start = 0 if previous is None else previous[0] + 1
                head = [] if previous is None else [defined[nodes[previous[0]]][0]]
                part = factors[start:k + 1]
                values = {f: record.values[f] for f in part}
                if previous is not None:
                    values[head[0]] = defined[nodes[previous[0]]][1]
                value = _product(values.values())
                quantities.append(Quantity(symbol.name, symbol, rf"\delta_{{{latex.get(node, node)}}}" + _mark(label),
                                           text=symbol.name))
                shown.append(dataclasses.replace(record, lhs=symbol, formula=sp.Mul(*head, *part, evaluate=False),
                                                 values=values, value=value, toward="delta"))
                defined[node] = (symbol, value)
            previous = (k,)
        symbol, value = defined[nodes[points[-1]]]
        rest = factors[points[-1] + 1:]
        values = {symbol: value, **{f: record.values[f] for f in rest}}
        if _product(values.values()) != record.value:
            raise VerificationError(f"{record.lhs}: the error δ times the rest of its path is not the gradient")
        shown.append(dataclasses.replace(record, formula=sp.Mul(symbol, *rest, evaluate=False), values=values,
                                         toward="delta"))
    return shown, quantities
