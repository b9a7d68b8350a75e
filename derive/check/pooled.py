"""A pooled layer defined the course's way (seed 000/001 §2.5): ``a_ij^(l) = f(z_ij^(l))``, then
``a_ij^(l) = f(max_u max_v z_(Si+u, Sj+v)^(l))`` or ``f(1/K'^2 sum_u sum_v z_(Si+u, Sj+v)^(l))``.

f is the layer's activation (the problem names none: a function of the student's own), a^(l) is
written as the problem's pooled output, and the window is the student's own placement (stride S).
The line is a ``definition`` when the window at the first output (i = j = 0, the student's indices
from 0, the problem's from 1) pools exactly as one of the problem's quantities written a^(l) (its
average or its maximum); each output index moves its own window index by a translation only. The
layer's own form ``a_ij = f(z_ij)`` (the same entry, the same layer) is a definition of the layer.
Anything else (1/K' for 1/K'^2, a window of the wrong size, a swapped or missing index) is wrong.
"""

from __future__ import annotations

import re
from dataclasses import replace

import sympy as sp
from sympy.core.function import AppliedUndef

from .steps import Link, counterexample_text

#: the rule of the layer's own form a_ij = f(z_ij): a definition of the layer, not a result of the problem
LAYER_ACTIVATION = "layer-activation"


def _written(name: str) -> str:
    """A family's written name without braces and spaces (a^{(l)} and the reader's a^(l) alike)."""
    return re.sub(r"[{}\s]", "", name)


def pooled_definition(derivation, verifier, lhs: sp.Basic, rhs: sp.Basic) -> Link | None:
    """Judge ``lhs = rhs`` as a definition of the pooled layer: a ``definition`` link (its rule the
    problem's quantity, or :data:`LAYER_ACTIVATION`), a ``wrong`` one, or None (not such a line:
    judged as a step)."""
    judged = _pooled(derivation, verifier, lhs, rhs)
    if judged is None:
        return None
    verdict, rule, counterexample = judged
    return Link(verdict, rule, (rule,) if rule else (), counterexample=counterexample_text(counterexample))


def _pooled(derivation, verifier, lhs: sp.Basic, rhs: sp.Basic) -> tuple[str, str | None, object] | None:
    """(verdict, rule, counterexample) of :func:`pooled_definition`, or None."""
    if not (isinstance(lhs, sp.Indexed) and isinstance(rhs, AppliedUndef) and len(rhs.args) == 1):
        return None
    known = {q.symbol for q in derivation.quantities}
    indices = lhs.indices
    if lhs.base in known or rhs.func in known or len(indices) != 2 or len(set(indices)) != 2 \
            or not all(isinstance(i, sp.Symbol) for i in indices):
        return None
    pooled = [q for q in derivation.quantities if _written(q.latex or "") == _written(str(lhs.base))
              and isinstance(q.meaning, sp.Basic) and not isinstance(q.meaning, sp.Lambda)
              and len(q.meaning.atoms(sp.IndexedBase)) == 1]
    if not pooled:
        return None
    inner = rhs.args[0]
    families = inner.atoms(sp.IndexedBase)
    layer = str(lhs.base).split("^", 1)[1:] or [""]
    if isinstance(inner, sp.Indexed) and inner.base not in known:
        same = inner.indices == indices and inner.base != lhs.base and str(inner.base).split("^", 1)[1:] == layer
        return ("definition", LAYER_ACTIVATION, None) if same else ("wrong", None, None)
    if len(families) != 1 or next(iter(families)) in known:
        return None
    family = next(iter(families))
    window = {limit[0] for total in inner.atoms(sp.Sum) for limit in total.limits}
    if not all(_translated(entry.indices, indices, window) for entry in inner.atoms(sp.Indexed) if entry.base == family):
        return ("wrong", None, None)
    first = inner.xreplace(dict.fromkeys(indices, sp.Integer(0)))
    failed = None
    for quantity in pooled:
        comparison = _compared(verifier, quantity.meaning, first, family)
        if comparison is None:
            continue
        if comparison[0]:
            return ("definition", quantity.key, None)
        failed = failed or [comparison[1]]
    return ("wrong", None, failed[0]) if failed is not None else None


def _compared(verifier, meaning: sp.Basic, first: sp.Basic, family: sp.IndexedBase) -> tuple[bool, object] | None:
    """The problem's pooled quantity compared with the student's first window, its indices from 1:
    (agrees, counterexample), None where SymPy cannot compare them (the line is then not judged as
    a pooled definition). A problem quantity stated at one window size (a_max over a 2 x 2 window)
    is compared at the size whose window covers exactly its entries (none: it does not agree)."""
    problem_family = next(iter(meaning.atoms(sp.IndexedBase)))
    shifted = first.replace(lambda e: isinstance(e, sp.Indexed) and e.base == family,
                            lambda e: problem_family[tuple(k + 1 for k in e.indices)])
    try:
        sizes = [s for s in shifted.free_symbols - meaning.free_symbols if s.is_integer]
        if len(sizes) > 1:
            return None
        if sizes:
            wanted = {e for e in meaning.atoms(sp.Indexed) if e.base == problem_family}
            fitting = [concrete for concrete in (shifted.subs(sizes[0], k).doit() for k in range(1, 5))
                       if {e for e in concrete.atoms(sp.Indexed) if e.base == problem_family} == wanted]
            if not fitting:
                return False, None
            shifted = fitting[0]
        shared = sorted((s for s in meaning.free_symbols & shifted.free_symbols if s.is_integer), key=str)
        if len(shared) > 1:
            return None
        # at each window size written out (a sum of K'^2 entries SymPy may sample nowhere as written)
        for size in range(1, 4) if shared else (None,):
            at = {shared[0]: size} if shared else {}
            comparison = verifier.compare(meaning.subs(at).doit(), shifted.subs(at).doit(), thorough=False)
            if comparison.certificate is None:
                counter = comparison.counterexample
                if counter is not None and shared:  # the window size it was written out at
                    counter = replace(counter, point={**counter.point, str(shared[0]): sp.Integer(size)})
                return False, counter
    except Exception:  # noqa: BLE001 - a window SymPy cannot compare (VerificationError...): not judged here
        return None
    return True, None


def _translated(entry: tuple, outputs: tuple, window: set) -> bool:
    """Whether a window entry's indices move with the output's: the k-th index is the k-th output
    index times a step (a nonzero name or number: the stride S) plus the window's own index."""
    if len(entry) != len(outputs):
        return False
    for index, output in zip(entry, outputs):
        offset = sp.expand(index - index.subs(output, 0))
        step = sp.simplify(offset / output)
        if index.has(*(o for o in outputs if o != output)) or offset == 0 or step.has(output) \
                or step.free_symbols & window or step.is_zero:
            return False
    return True
