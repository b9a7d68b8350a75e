"""Vector and matrix forms of an index-valued result, compared entry by entry at concrete sizes.

A target such as the softmax Jacobian dp_i/dx_k = p_i (delta_ik - p_k) holds for every class
count; a student may write it as diag(p) - p p^T. The answer is read once per concrete size
(C = 2, 3, 4, or the target's own checked widths), with each family written whole (p, delta^(l),
W^(l+1)) as the vector or matrix of its entries, and every entry is compared with the target's
entry at that size: rows and columns are the target's indices in the order its left side names
them (dp_i/dx_k: row i, column k), the indices the answer names itself (i in e_i - p) run over
every value.
"""

from __future__ import annotations

import re
from itertools import product

import sympy as sp

from ..engine import Target
from ..verify import Comparison, Verifier
from .reader import Parser, ReadError, Reading, normalize

#: What makes an answer a vector form.
MARKS = re.compile(r"\\(?:mathbf|boldsymbol|vec|odot|top|intercal|nabla_|operatorname\{diag\}|mathrm\{diag\})"
                   r"|\^\s*\{?\s*T\b|\\nabla\s*_")
#: The largest size compared (entries grow as its square).
LARGEST = 4


def is_vector_form(answer: str) -> bool:
    """Whether the answer is written with vectors or matrices."""
    return bool(MARKS.search(answer))


def sizes(target: Target, names: dict) -> list[dict]:
    """The concrete sizes to compare at: the target's checked sizes, at most :data:`LARGEST`."""
    if len(target.entrywise) != 1:  # one size (C, n) the vectors run over; a conv layer's N and K are not
        return []
    ((name, values),) = target.entrywise
    symbol = names.get(name)
    return [] if symbol is None else [{symbol: sp.Integer(v)} for v in values if v <= LARGEST]


def plan(targets, names: dict) -> list[dict]:
    """The concrete sizes a line of a derivation written with vectors is compared at: every size
    any of the derivation's targets was checked at (in order, each once)."""
    found: list[dict] = []
    for target in targets:
        found += [size for size in sizes(target, names) if size not in found]
    return found


def written_whole(value: sp.Basic) -> bool:
    """Whether a reading holds a family written whole (z^(l), not z_i^(l)): a vector form."""
    if not isinstance(value, sp.Basic):
        return False
    return bool(value.atoms(sp.IndexedBase) - {entry.base for entry in value.atoms(sp.Indexed)})


def indices(target: Target, index_symbols: set) -> list[sp.Symbol]:
    """The target's free indices in the order its left side names them."""
    seen = [s for s in sp.preorder_traversal(target.lhs) if s in index_symbols]
    return list(dict.fromkeys(seen))


class VectorParser(Parser):
    """The reader in vector mode: ``u \\cdot v`` of two vectors (or matrices) of one shape where a
    matrix product would not fit (two columns) is their entry-by-entry product, as the course's sheets
    write it (seed 001 3.1: (W^(l))^T delta^(l) \\cdot f'(z^(l-1))); where it fits (square matrices, a
    row times a column) it stays the matrix product."""

    #: the product being read was written with \\cdot
    dotted: bool = False

    def operand(self) -> sp.Basic:
        """The factor after an operator, noting whether the operator was \\cdot."""
        operator = self.tokens[self.index - 1][1] if self.index else ""
        value = super().operand()
        self.dotted = operator == r"\cdot"
        return value

    def times(self, left: sp.Basic, right: sp.Basic) -> sp.Basic:
        """left * right; two same-shaped non-square matrices joined by \\cdot: entry by entry."""
        dotted, self.dotted = self.dotted, False
        if dotted and isinstance(left, sp.MatrixBase) and isinstance(right, sp.MatrixBase) \
                and left.shape == right.shape and left.shape[0] != left.shape[1]:
            return left.multiply_elementwise(right)
        return super().times(left, right)


def read_at(answer: str, table, size: dict, shift: int = 0) -> Reading:
    """The answer read in vector mode at one size (every layer label shifted by ``shift``: see
    :func:`derive.check.reader.read`)."""
    parser = VectorParser(normalize(answer), table)
    parser.sizes, parser.layer_shift = size, shift
    try:
        return parser.answer()
    except (sp.ShapeError, sp.NonSquareMatrixError, ValueError, TypeError) as error:
        if isinstance(error, ReadError):
            raise
        raise ReadError(f"the vectors' sizes do not match ({error})") from None


def compare(answer: str, target: Target, table, verifier: Verifier) -> tuple[Comparison, Reading, str] | None:
    """Compare a vector form with the target entry by entry, at every size: (the last comparison or
    the first that fails, the reading at the last size, the sizes); None when the target has no
    concrete sizes (the caller reads the answer as usual).

    Raises:
        ReadError: the answer is not a vector or matrix of the target's shape.
    """
    index_symbols = {s for s, q in table.quantities.items() if getattr(q.domain, "kind", "") == "index"}
    order = indices(target, index_symbols)
    plan = sizes(target, table.names)
    if not plan or not order:
        return None
    last, shown = None, ", ".join(f"{k} = {v}" for size in plan for k, v in size.items())
    for size in plan:
        reading = read_at(answer, table, size)
        value = reading.value
        if not isinstance(value, sp.MatrixBase):
            raise ReadError("a vector form must give a vector or a matrix")
        lhs = reading.lhs
        if lhs is not None and (not isinstance(lhs, sp.MatrixBase) or lhs.shape != value.shape):
            raise ReadError("the left side of a vector form must be a vector or matrix of the same size")
        free = [s for s in order if not value.has(s)]
        shape = [n for n in value.shape if n != 1] if len(free) == 1 else list(value.shape)
        if len(free) not in (1, 2) or len(shape) != len(free):
            raise ReadError(f"a {value.shape[0]} x {value.shape[1]} answer for a result with indices "
                            f"{', '.join(map(str, order))}")
        (count,) = set(size.values())
        if any(n != count for n in shape):
            raise ReadError(f"a {value.shape[0]} x {value.shape[1]} answer where the result has {count} entries "
                            f"per index {', '.join(map(str, free))}")
        flat = list(value) if len(free) == 1 else None
        others = [s for s in order if s not in free]
        for entry in product(range(1, int(count) + 1), repeat=len(free)):
            where = (entry[0] - 1,) if flat is not None else (entry[0] - 1, entry[1] - 1)
            got = flat[where[0]] if flat is not None else value[where]
            named = None if lhs is None else (list(lhs)[where[0]] if flat is not None else lhs[where])
            for rest in product(range(1, int(count) + 1), repeat=len(others)):
                point = {**size, **dict(zip(free, map(sp.Integer, entry), strict=True)),
                         **dict(zip(others, map(sp.Integer, rest), strict=True))}
                if named is not None and named != target.lhs.xreplace(point):
                    raise ReadError(f"the left side names {named}, not {target.lhs.xreplace(point)}")
                last = verifier.compare(got.xreplace(point), target.rhs.xreplace(point), thorough=False)
                if last.counterexample is not None:
                    last.counterexample.point.update({str(k): v for k, v in point.items()})
                    return last, reading, shown
    return last, reading, shown
