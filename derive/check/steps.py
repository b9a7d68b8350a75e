"""Checking a whole derivation line by line: each line follows from the one before, or not.

A student's answer is a sequence of lines (an ``align`` block, or plain lines), each a chain
``A = B = C``, a continuation ``= D``, or an equation that follows from the one before
(``\\Rightarrow \\operatorname{Var}(W) = 1/n``). Every link is judged with the reference
derivation's knowledge: its definitions (Var(z) is a sum over the layer, E[W^2] = Var(W) +
E[W]^2), what its lines derived, and the assumptions its steps hold under (E[W] = 0).

A link is ``equal`` (algebra alone shows it), ``valid`` (it follows by a named rule of the
reference: independence, zero mean, solving...), ``skips`` (it follows, but by more steps of
the reference at once than a reader can follow), ``definition`` (a line that introduces a
quantity, ``z_i = sum_j W_ij a_j + b_i``, as the problem defines it), or ``wrong`` (it does not
follow: a point where the two sides differ is given). A line right only under a convention the
reference holds (the error taken as 0 outside its map) is valid, and its verdict names the
convention (:mod:`derive.check.conventions`). After a wrong line, later lines are judged against what
the student wrote (error carried forward), and the last line is compared with the targets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise

import sympy as sp
from sympy.core.function import AppliedUndef

from ..engine import DEFINE, EQUALS, EQUATION, Derivation
from ..errors import VerificationError
from ..markup import marked
from ..notation import REAL, SMOOTH_FUNCTION
from ..printing import NotationLatexPrinter
from ..render import rule_texts, wording
from ..verify import Verifier, cheaply_zero, shown, shown_pair
from .bindings import activation_meanings, binding, distribution_premises, one_output, put_back
from .conditions import stated_conditions
from .conventions import Convention, conventions_of, kink, under_convention
from .decide import private_table, problem_table, problem_verifier
from .lines import split_lines
from .opaque import opaque, revealed
from .parts import Parts, in_parts, parts
from .parts import recursion as recursion_of
from .reader import ReadError, read
from .reader.course import up_to_order
from .reasons import rule_hint
from .table import declare_function
from .timed import failure_kind

#: A link that covers more reference steps than this skips too much.
MOST_STEPS_AT_ONCE = 2
#: The reference's stated lines that define a quantity (their rule keys): the input of a unit,
#: the error delta = dL/dz, a named definition. Other stated lines are premises (a variance rule).
DEFINING_RULES = re.compile(r"definition|^layer-input$")


@dataclass(frozen=True)
class Knowledge:
    """What the reference derivation knows: two verifiers (algebra with the notation's
    definitions only, and with everything the reference derived and assumed), the assumptions
    as substitutions, the reference's lines (to name the rule of a link) and its equations."""

    plain: Verifier
    full: Verifier
    given: Mapping[sp.Basic, sp.Basic]
    chains: tuple[tuple[tuple[sp.Basic, ...], tuple[str, ...]], ...]
    equations: tuple[tuple[sp.Basic, str], ...]
    rule_of: Mapping[sp.Basic, str]
    names: Mapping[str, str] = field(default_factory=dict)
    definitions: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)
    #: what the problem defines a quantity (a symbol, or an indexed family) to be: (value, rule)
    defines: Mapping[sp.Basic, tuple[sp.Basic, str]] = field(default_factory=dict)
    #: the conventions a line may be right under (the error 0 outside its map)
    conventions: tuple[Convention, ...] = ()
    #: expressions with the notation's definitions unfolded, kept with this knowledge (its lines recur)
    unfolded: dict = field(default_factory=dict, compare=False, repr=False)
    #: each part of the reference with its own facts, and the names it reads as its own (:mod:`.parts`)
    parts: Parts | None = field(default=None, compare=False, repr=False)


def knowledge(derivation: Derivation, table) -> Knowledge:
    """Collect the reference derivation's facts, assumptions, lines and equations."""
    for symbol, quantity in list(table.quantities.items()):
        if quantity.domain is None and quantity.meaning is None and isinstance(symbol, sp.Symbol):
            table.quantities[symbol] = replace(quantity, domain=REAL)  # dL/dyhat, L: any real value
        elif quantity.domain is None and quantity.meaning is None and isinstance(symbol, sp.FunctionClass):
            table.quantities[symbol] = replace(quantity, domain=SMOOTH_FUNCTION)  # vanishing's activation f
    plain, full = problem_verifier(table, derivation), problem_verifier(table, derivation)
    plain.quantities = full.quantities = table.quantities  # shared, so invented names get a domain too
    definitions = {**plain.facts, **{q.symbol: q.meaning for q in derivation.quantities if q.meaning is not None}}
    full.facts.update(definitions)
    given: dict = {}
    chains, equations, rule_of = [], [], {}
    expressions: list[sp.Basic] = []
    rules: list[str] = []
    subject = None
    # a quantity's meaning is its definition, unless the reference derives it (a chain opens with
    # it: the error delta^(l) = sum_k ... is a result, not a definition)
    derived = {getattr(s.lhs, "base", s.lhs) for s in derivation.steps if s.kind == DEFINE}
    defines: dict = {q.symbol: (q.meaning, "definition") for q in derivation.quantities
                     if q.meaning is not None and isinstance(q.symbol, (sp.Symbol, sp.IndexedBase, sp.FunctionClass))
                     and q.symbol not in derived}
    for step in derivation.steps:
        step = replace(step, rhs=opaque(full, step.rhs), lhs=None if step.lhs is None else opaque(full, step.lhs))
        given.update(dict(step.given))
        for family, recursion in recursion_of(step).items():  # Var(z)_l = ... Var(z)_{l-1} at every layer
            full.learn(family, recursion)
            rule_of.setdefault(family, step.rule)  # the product of the ratios names the recursion it uses
        if step.kind in (DEFINE, EQUATION) and step.certificate is None and DEFINING_RULES.search(step.rule) \
                and isinstance(step.lhs, (sp.Symbol, sp.Indexed)):
            defines.setdefault(_canonical(step.lhs), (_canonical(step.rhs), step.rule))
        if step.kind == DEFINE:
            if expressions:
                chains.append((tuple(expressions), tuple(rules)))
            subject, expressions, rules = step.lhs, [step.lhs, step.rhs], [step.rule]
            if isinstance(subject, sp.Symbol) and subject not in plain.facts:
                rule_of.setdefault(subject, step.rule)
        elif step.kind == EQUALS:
            if step.rhs == expressions[-1]:
                continue  # the same expression written another way (a display form): no step to count
            expressions.append(step.rhs)
            rules.append(step.rule)
        else:
            equations.append((step.lhs - step.rhs, step.rule))
            continue
        if isinstance(subject, sp.Symbol) and subject not in plain.facts and not step.rhs.has(subject):
            full.learn(subject, step.rhs)
    if expressions:
        chains.append((tuple(expressions), tuple(rules)))
    names = {str(q.symbol): q.text or q.key for q in table.quantities.values() if isinstance(q.symbol, sp.Symbol)}
    given = {_canonical(k): v for k, v in given.items()}
    return Knowledge(plain, full, given, tuple(chains), tuple(equations), rule_of, names, definitions, defines,
                     conventions_of(derivation))


@dataclass
class Link:
    """How one expression follows from another."""

    verdict: str
    rule: str | None = None
    rules: tuple[str, ...] = ()
    counterexample: dict | None = None
    #: for a wrong link, what would have followed (the line before, or the solution of the
    #: equation before): the final result is judged against the target it would have given
    expected: sp.Basic | None = None
    #: for a wrong link between two sides of one line (A = B = C), the two sides as written
    sides: tuple[str, str] | None = None
    #: for a definition (or a wrong one), the quantity it defines as written
    name: str | None = None
    #: for a link right only under a convention of the reference, that convention
    convention: Convention | None = None
    #: for a line of vectors or matrices compared entry by entry, the sizes (n = 2, 3)
    sizes: str | None = None


def _same(verifier: Verifier, a: sp.Basic, b: sp.Basic, given: Mapping | None = None) -> bool:
    """Equal by the cheap symbolic strategies alone (no sampling): used to place an expression
    among the reference's lines."""
    try:
        difference = verifier.unfold(a, given) - verifier.unfold(b, given)
    except Exception:  # noqa: BLE001 - an expression SymPy cannot handle is simply not placed
        return False
    return _cheaply_zero_safe(difference)


def _place(known: Knowledge, expr: sp.Basic) -> list[tuple[int, int]]:
    """Where ``expr`` stands in the reference's lines: (line, position) pairs. As written
    first (sigma stays sigma, a derivative stays to be taken), else after unfolding; only
    among expressions made of the same quantities (a cheap filter before any algebra)."""
    expr = _canonical(expr)
    written = _signature(expr)
    places = [(c, k) for c, (expressions, _) in enumerate(known.chains) for k, e in enumerate(expressions)
              if _signature(e) == written and _cheaply_zero_safe(expr - _canonical(e))]
    if places:
        return places
    unfolded = _canonical(_unfolded(known, expr))
    shape = _signature(unfolded)
    if not shape <= _reference_quantities(known):
        return []  # a quantity no line of the reference unfolds to (sigma'(z) of a variable z): nowhere
    return [(c, k) for c, (expressions, _) in enumerate(known.chains) for k, e in enumerate(expressions)
            if _signature(_unfolded(known, e)) == shape
            and _cheaply_zero_safe(unfolded - _canonical(_unfolded(known, e)))]


def _reference_quantities(known: Knowledge) -> frozenset:
    """Every quantity the reference's lines can unfold to: those they are written with, and those
    of the meanings of every quantity the verifier knows (a cheap bound, computed without unfolding)."""
    meanings = [v for v in known.plain.facts.values() if isinstance(v, sp.Basic)]
    expressions = [e for expressions, _ in known.chains for e in expressions] + meanings
    labels = {family.label for e in expressions for family in e.atoms(sp.IndexedBase)}  # z of z[i]: no quantity
    return frozenset().union(*(_signature(e) for e in expressions), known.plain.facts) - labels


def _canonical(expr: sp.Basic, depth: int = 0) -> sp.Basic:
    """Every sum's index renamed by how deep the sum is nested (sum_k x_k and sum_j x_j are then
    the same expression, and so is an assumption about such a sum, sum_i y_i = 1). The new index
    is as positive as the sum's lower bound makes it, no more."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Sum):
        return expr
    if isinstance(expr, sp.Sum):
        names = {}
        for number, (variable, *bounds) in enumerate(expr.limits):
            # as positive as its lower bound makes it (u from 0 is not positive: an index u - 1 may be 0)
            low = bounds[0] if bounds else None
            sign = {"positive": True} if low is not None and low.is_positive else (
                {"nonnegative": True} if low is not None and low.is_nonnegative else {})
            names[variable] = sp.Symbol(f"_bound{depth}_{number}", integer=True, **sign)
        inner = _canonical(expr.function, depth + 1).xreplace(names)
        return sp.Sum(inner, *((names[v], *bounds) for v, *bounds in expr.limits))
    return expr.func(*(_canonical(arg, depth) for arg in expr.args))


def _signature(expr: sp.Basic) -> frozenset:
    """The quantities an expression is made of: symbols other than bound indices, families, functions."""
    symbols = {s for s in expr.free_symbols if isinstance(s, sp.Symbol) and not isinstance(s, sp.Dummy)
               and not s.name.startswith("_bound")}
    return frozenset(symbols | expr.atoms(sp.IndexedBase) | {f.func for f in expr.atoms(sp.core.function.AppliedUndef)})


def _unfolded(known: Knowledge, expr: sp.Basic) -> sp.Basic:
    """``expr`` with the notation's definitions unfolded (kept on ``known``: the reference's lines
    recur, and the cache goes with the knowledge it was made with)."""
    cache = known.unfolded
    if expr not in cache:
        try:
            cache[expr] = known.plain.unfold(expr)
        except Exception:  # noqa: BLE001 - what SymPy cannot unfold is simply not placed
            cache[expr] = expr
    return cache[expr]


def _cheaply_zero_safe(difference: sp.Basic) -> bool:
    try:
        return cheaply_zero(difference)
    except Exception:  # noqa: BLE001 - an expression SymPy cannot handle is simply not placed
        return False


def _reference_rules(known: Knowledge, a: sp.Basic, b: sp.Basic) -> tuple[str, ...] | None:
    """The reference's rules between two expressions found on one of its lines, in order."""
    before, after = _place(known, a), _place(known, b)
    spans = [(ka, kb, c) for c, ka in before for c2, kb in after if c == c2 and kb > ka]
    if not spans:
        return None
    start, end, chain = min(spans, key=lambda s: s[1] - s[0])
    return known.chains[chain][1][start:end]


def link(known: Knowledge, a: sp.Basic, b: sp.Basic, hint: str | None = None,
         conditions: tuple[Convention, ...] = ()) -> Link:
    """Judge ``a = b`` as a step of the derivation (``hint``: the rule the line's reason names,
    tried first; it only orders the attempts; ``conditions``: the sign conditions the reason states,
    tried only where the link is wrong as written, and named in its verdict)."""
    a, b = up_to_order(_canonical(a), _canonical(b))  # a Taylor line: compared up to its O(z^n)
    rules = _reference_rules(known, a, b)
    plain = known.plain.compare(a, b, thorough=False)
    if plain.certificate is not None:
        at_kink = kink(known.plain, a, b)
        if at_kink is not None:  # right, with a value of its own where a piecewise side jumps
            return Link("valid", "convention", ("convention",), convention=at_kink)
        if not rules:
            return Link("equal", "algebra")
        return Link("skips" if len(rules) > MOST_STEPS_AT_ONCE else "valid", rules[0], rules)
    full = known.full.compare(a, b, given=known.given, thorough=False)
    if full.counterexample is not None:
        convention = under_convention(known.full, known.conventions, a, b, known.given)
        if convention is not None:
            return Link("valid", "convention", ("convention",), convention=convention)
        condition = under_convention(known.full, conditions, a, b, known.given)
        if condition is not None:  # prod ReLU'(z_l) = 1 under the reason's z_l > 0
            return Link("valid", "condition", ("condition",), convention=condition)
        wrong = Link("wrong", counterexample=counterexample_text(full.counterexample), expected=a)
        return in_parts(known, wrong, lambda part, a, b: link(part, a, b, hint, conditions), a, b)
    if known.parts is not None and known.parts.mentioned(known, a, b):  # held with two parts' facts at once?
        judged = in_parts(known, Link("valid"), lambda part, a, b: link(part, a, b, hint, conditions), a, b)
        if judged.verdict == "wrong":
            return judged
    if rules is None:
        rules = _facts_used(known, a, b, hint)
    if len(rules) > MOST_STEPS_AT_ONCE or not rules:
        return Link("skips", rules[0] if rules else None, rules)
    return Link("valid", rules[0], rules)


def definition(known: Knowledge, lhs: sp.Basic, rhs: sp.Basic, given: Mapping | None = None) -> Link | None:
    """Judge ``lhs = rhs`` as the definition of the quantity ``lhs`` (a symbol, or an entry of an
    indexed family): ``definition`` when ``rhs`` is what the problem defines it to be, as written
    up to order and cheap algebra (a definition worked out, dL/dyhat differentiated, is None: a
    step); under no assumption a dropped bias, a wrong bound or sign is wrong,
    ``wrong`` when it is not (the caller then judges the line as a step: sigma = sqrt(2/(n+m))
    is a result, not a definition); None when the problem does not define ``lhs``."""
    family, arguments = (lhs.base, lhs.indices) if isinstance(lhs, sp.Indexed) else (lhs.func, lhs.args)
    if isinstance(lhs, (sp.Indexed, AppliedUndef)) and family in known.defines:  # z_i^(l), sigma(x)
        meaning, rule = known.defines[family]
        if not isinstance(meaning, sp.Lambda) or len(meaning.variables) != len(arguments):
            return None
        value = meaning(*arguments)
    elif _canonical(lhs) in known.defines:
        value, rule = known.defines[_canonical(lhs)]
    else:
        return None
    if rhs.has(sp.Order):
        return None  # a Taylor line (tanh x = x - x^3/3 + O(x^4)): a step from the definition, judged as one
    if _cheaply_zero_safe(_canonical(value).xreplace(given or {}) - _canonical(rhs)):
        return Link("definition", rule, (rule,))
    try:
        comparison = known.plain.compare(value, _canonical(rhs), given=given, thorough=False)
    except VerificationError:
        return None
    if comparison.certificate is not None or value.has(sp.Derivative):
        return None  # the definition worked out (dL/dyhat differentiated), or a try at it: a step, judged as one
    return Link("wrong", rule, (rule,), counterexample=counterexample_text(comparison.counterexample), expected=lhs)


def _as_defined(known: Knowledge, chain: list) -> bool:
    """Whether a chain ``A = B = ...`` that algebra alone shows writes the problem's definition of
    its left side as the problem writes it (yhat = sigma(z), or sigma(z) taken one step: 1/(1+e^-z));
    never a derivative worked out (a step)."""
    value = known.definitions.get(_canonical(chain[0])) if chain and chain[0] is not None else None
    if value is None or not isinstance(value, sp.Basic) or isinstance(value, sp.Lambda) or value.has(sp.Derivative):
        return False
    try:
        forms = [value, value.replace(lambda e: isinstance(e, AppliedUndef) and isinstance(
            known.definitions.get(e.func), sp.Lambda), lambda e: known.definitions[e.func](*e.args))]
    except Exception:  # noqa: BLE001 - a definition SymPy cannot apply is compared as written
        forms = [value]
    return any(e is not None and _cheaply_zero_safe(_canonical(e) - _canonical(f)) for e in chain[1:] for f in forms)


def _learn_function(known: Knowledge, lhs: sp.Basic) -> None:
    """After a line that defines a function of the problem as the problem does (sigma(z) =
    1/(1 + e^-z)), later lines are judged with that function (sigma'(z) = sigma(z)(1 - sigma(z)))."""
    meaning = known.defines.get(lhs.func, (None,))[0] if isinstance(lhs, AppliedUndef) else None
    if isinstance(meaning, sp.Lambda) and lhs.func not in known.plain.facts:
        known.plain.facts[lhs.func] = known.full.facts[lhs.func] = meaning


def _names_only(expr: sp.Basic, new: set) -> bool:
    """Whether ``expr`` is a new name, or a power of one (sigma^2)."""
    base = expr.base if isinstance(expr, sp.Pow) and expr.exp.is_Integer else expr
    return isinstance(base, sp.Symbol) and base in new


def _first(items, hint: str | None, rule_of=lambda item: item[1]) -> list:
    """``items`` with those whose rule the hint names first (a reason only orders the attempts)."""
    return sorted(items, key=lambda item: not (hint and _names(hint, rule_of(item))))


def _names(hint: str, rule: str) -> bool:
    """Whether a reason's rule key names a reference rule (independence: independence-variance)."""
    return rule == hint or rule.startswith(hint) or hint.startswith(rule)


def _facts_used(known: Knowledge, a: sp.Basic, b: sp.Basic, hint: str | None = None) -> tuple[str, ...]:
    """The reference facts and assumptions a link needs, found one at a time (empty: several)."""
    used = a.free_symbols | b.free_symbols | a.atoms(sp.IndexedBase) | b.atoms(sp.IndexedBase)
    for symbol, rule in _first(known.rule_of.items(), hint):
        if symbol not in used:
            continue
        verifier = Verifier(known.plain.quantities)
        verifier.facts = {**known.definitions, symbol: known.full.facts.get(symbol, symbol)}
        if verifier.compare(a, b, given=known.given, thorough=False).certificate is not None:
            return (rule,)
    if _same(known.plain, a, b, known.given):
        return ("assumptions",)
    return ()


def equation_link(known: Knowledge, previous: tuple[sp.Basic, sp.Basic] | None,
                  lhs: sp.Basic, rhs: sp.Basic, hint: str | None = None) -> Link:
    """Judge an equation ``lhs = rhs`` that is not an identity: it follows from the equation
    before it (the same equation rearranged, or solved for its left side), or it is an equation
    or a result the reference states, or it does not follow."""
    difference = _difference(known, lhs, rhs)
    if previous is not None:
        before = _difference(known, *previous)
        solved_for = isinstance(lhs, sp.Symbol) and not rhs.has(lhs)
        # after a result X = v, a line X = w is a new result (Xavier's backward condition), not a solve
        new_result = previous[0] == lhs and not previous[1].has(lhs)
        if solved_for and not new_result:
            solutions = _solve(before, lhs)
            if len(solutions) == 1:
                comparison = known.full.compare(solutions[0], rhs, given=known.given, thorough=False)
                if comparison.certificate is not None:
                    return Link("valid", "solve", ("solve",))
                return Link("wrong", counterexample=counterexample_text(comparison.counterexample), expected=solutions[0])
        if _equivalent(difference, before):
            return Link("valid", "rearrange", ("rearrange",))
    for reference, rule in _first(known.equations, hint):
        if _equivalent(difference, known.full.unfold(reference, known.given).doit()):
            return Link("valid", rule, (rule,))
    return Link("wrong")


def _difference(known: Knowledge, lhs: sp.Basic, rhs: sp.Basic) -> sp.Basic:
    """lhs - rhs of an equation with everything the reference knows unfolded (sums of constant
    terms evaluated)."""
    return known.full.unfold(lhs - rhs, known.given).doit()


def _equivalent(difference: sp.Basic, other: sp.Basic) -> bool:
    """Whether two equations (as differences of their sides) are one equation: their ratio is a
    constant, or a quantity that cannot be 0 (dividing both sides by Var(z) > 0)."""
    if other == 0 or difference == 0:
        return False
    ratio = sp.cancel(sp.together(difference / other))
    if ratio.is_zero is False and (ratio.is_number or ratio.is_positive or ratio.is_negative):
        return bool(ratio.is_finite is not False)
    return False


def counterexample_text(counter) -> dict | None:
    """A counterexample as text: the point (rounded), the two sides there, and the difference
    where it was shown to be nonzero symbolically."""
    if counter is None:
        return None
    difference = {} if counter.difference is None else {"difference": sp.sstr(counter.difference)[:200]}
    left, right = shown_pair(counter.left, counter.right)
    return {"point": {k: shown(v, 4) for k, v in counter.point.items()}, "left": left, "right": right, **difference}


def _solve(expr: sp.Basic, unknown: sp.Symbol) -> list[sp.Basic]:
    try:
        return sp.solve(expr, unknown)
    except (NotImplementedError, ValueError, TypeError):
        return []


def check_steps(text: str, problem: str, lang: str = "en", progress: Callable[[list], None] | None = None) -> dict:
    """Check a derivation written by a student, line by line, against the entry ``problem``.

    ``progress``, when given, is called before each line and once after the last with the lines
    judged so far (so that a caller timing each line can report them: :mod:`derive.check.timed`).

    Returns:
        ``{"problem", "lines": [{"n", "latex", "parsed", "verdict", "rule", "feedback", "reason"}],
        "final": {"target", "verdict"}, "first_error"}``. Line verdicts: ``start`` (the first
        statement, a definition), ``equal``, ``valid``, ``skips``, ``wrong``, ``error`` (the checker
        failed on a link), ``undecided``, ``unreadable``; ``reason``: the line's own reason as
        plain text (a ``\\tag``, a comment), "" when it has none.
    """
    # imported here: the vector lines' module judges with this module's links
    from . import vectors
    from .final import Own, final_result
    from .pooled import pooled_definition
    from .vector_steps import (
        applied_entrywise,
        entry_definition,
        layer_reference,
        reference_links,
        vector_final,
        vector_links,
    )

    words = wording(lang)
    derivation, shared = problem_table(problem, True)
    phrases, rules = words["steps"], rule_texts(words, derivation)
    # the problem's own conventions (the course's), named beside a line that takes another
    course = "; ".join(marked(words["conventions"][k]).text for k in derivation.conventions if k in words["conventions"])
    # names a student invents are added to the table: this check's own copy, not the shared one
    table = private_table(shared)
    if "f" not in table.functions and "f" not in table.names:  # f(z): the layer's activation, where the problem names none
        table.functions, table.applied_only = dict(table.functions), set(table.applied_only)  # this check's own
        declare_function(table, "f", sp.Function("f"))
    known = knowledge(derivation, table)
    # f(x) = cases{x, alpha x} in prelu-init: the problem's activation, where it has no formula of its own
    known = replace(known, defines={**known.defines, **activation_meanings(derivation, table, known.defines)})
    known = replace(known, parts=parts(derivation, table, knowledge))  # each part with its own facts
    printer = NotationLatexPrinter([*derivation.quantities, *table.quantities.values()])
    lines = split_lines(text)
    results, current, equation, subject, subject_written, first_error = [], None, None, None, ("", None), None
    conditions: tuple = ()
    verdict, expected = "start", None
    plan, texts = vectors.plan(derivation.targets.values(), table.names), None  # texts: the last vector line's
    # a vector line where the problem has no sizes: judged with a fully connected layer's families
    reference = None if plan else layer_reference(derivation, lines)
    # names the student binds (S_j = sum_i w_ij x_i), never one the problem knows
    bound: dict = {}
    problem_names = {*shared.names.values(), *shared.quantities, *known.defines, *(q.symbol for q in derivation.quantities)}
    problem_latex = [q.latex for q in derivation.quantities if q.latex]
    premises = distribution_premises(derivation, known.full.facts)
    reference_rules = frozenset(step.rule for step in derivation.steps)
    for line in lines:
        if progress is not None:
            progress(results)
        values, unreadable = [], None
        for part in line.parts:
            if not part:
                values.append(None)
                continue
            try:
                values.append(opaque(known.full, read(part, table).value))
            except ReadError as error:
                unreadable = str(error)
                break
        entry = {"n": line.n, "latex": line.latex, "parsed": "", "verdict": "", "rule": None, "feedback": "",
                 "reason": line.reason}
        results.append(entry)
        # sigma(z) = 1/(1 + e^-z) with z the problem's z^(l): a function's statement, at any one entry
        values = (applied_entrywise(table, line, values) if plan and unreadable is None else None) or values
        if not plan and any(vectors.is_vector_form(p) for p in line.parts if p):
            # (W^(l))^T read as scalars would be a power T: judged in a fully connected layer's families
            # where the problem states that layer's backward pass unit by unit, else not judged
            current, texts, links = None, None, reference_links(reference, line)
            if links is None:
                entry.update(verdict="undecided", feedback=phrases["vector_no_sizes"])
                continue
        elif plan and (line.parts[0] or texts) and (any(vectors.is_vector_form(p) for p in line.parts if p)
                                                    or any(vectors.written_whole(v) for v in values)):
            texts = line.parts if line.parts[0] else [texts[0], texts[-1], *line.parts[1:]]
            links = vector_links(known, table, line, texts, plan)
        else:
            texts, links = None, None
        if links is not None:
            if isinstance(links, str):  # not a vector form: read as written (sigma'(z) with z a variable)
                unreadable, texts = unreadable or (links if any(map(vectors.is_vector_form, line.parts)) else None), None
            else:
                current = None
                verdict = _worst(links)
                named = [lk for lk in links if lk.verdict == verdict]
                entry.update(verdict=verdict, rule=named[0].rule, feedback=_feedback(
                    verdict, named, phrases, rules, first_error is not None, known.names, course))
                first_error = line.n if verdict == "wrong" and first_error is None else first_error
                continue
        if unreadable is not None:
            entry.update(verdict="unreadable", feedback=phrases["unreadable"].format(reason=unreadable))
            current = None  # the next line cannot be judged against a line that was not read
            continue
        entry["parsed"] = " = ".join(printer.doprint(revealed(v)) if v is not None else "" for v in values)
        written, values = values, [opaque(known.full, put_back(v, bound)) for v in values]  # written: a binding's own
        links, starts_chain = [], values[0] is not None
        hint = rule_hint(getattr(line, "reason", ""))
        conditions = stated_conditions(getattr(line, "reason", ""), table, reference_rules) + one_output(
            bound, written, values, lambda v: opaque(known.full, v))  # yhat = theta(S_j^(3)): d^(3) = 1
        if starts_chain:
            subject, subject_written = values[0], (line.parts[0].strip(), written[0])
            chain = list(values)
        else:
            chain = [current, *values[1:]] if current is not None else values[1:]
        for position, (a, b) in enumerate(pairwise(chain)):
            if a is None or b is None:
                continue
            if starts_chain and not line.implies and len(chain) == 2 \
                    and binding(a, b, line.parts[0], problem_names, bound, problem_latex, written[1]) is not None:
                links.append(Link("definition", "own-name", ("own-name",), name=line.parts[0].strip()))
                continue
            law = next((law for value, law in premises.get(a, ()) if starts_chain and not line.implies
                        and len(chain) == 2 and _cheaply_zero_safe(_canonical(b) - value)), None)
            if law is not None:  # Var(W) = r^2/3: W drawn from U(-r, r), the premise of that part
                links.append(Link("definition", "premise", ("premise",), name=law))
                continue
            try:
                defined = (definition(known, a, b) or entry_definition(known, set(table.names.values()) - set(
                    shared.names.values()), a, b) or pooled_definition(derivation, known.plain, a, b)) \
                    if starts_chain and not line.implies and len(chain) == 2 else None
                judged = defined if defined is not None and defined.verdict == "definition" \
                    else link(known, a, b, hint, conditions)
                if judged.verdict == "wrong" and starts_chain and position == 0 and len(chain) > 2 \
                        and _names_only(b, set(table.names.values()) - set(shared.names.values())):
                    # Var(W) = sigma^2 = ... with sigma a name the line brings: sigma^2 names Var(W)
                    judged = Link("definition", "name", ("name",), name=printer.doprint(revealed(b)),
                                  sides=(printer.doprint(revealed(a)), printer.doprint(revealed(b))))
                elif defined is not None and defined.verdict == "definition":
                    judged = replace(judged, name=line.parts[0].strip())
                    equation = (a, b)
                    _learn_function(known, a)
                elif judged.verdict == "wrong" and starts_chain and len(chain) > 2 and position == len(chain) - 2 \
                        and all(lk.verdict in ACCEPTED for lk in links):
                    # A = B = C where A = B holds (B another name of A: Var(W) = sigma^2): the line states A = C
                    as_equation = equation_link(known, equation, chain[0], b, hint)
                    if as_equation.verdict != "wrong":
                        judged, equation = as_equation, (chain[0], b)
                elif judged.verdict == "wrong" and len(chain) == 2 and (starts_chain or line.implies):
                    as_identity, judged = judged, equation_link(known, equation, a, b, hint)
                    equation = (a, b) if judged.verdict != "wrong" else equation
                    if judged.verdict == "wrong" and judged.counterexample is None:
                        judged = replace(judged, counterexample=as_identity.counterexample)
                if judged.verdict == "wrong" and defined is not None:
                    # a line that neither defines its quantity as the problem does nor follows
                    judged = replace(defined, name=line.parts[0].strip())
            except VerificationError:  # evaluable at no point: the link is not judged
                judged = Link("undecided", counterexample={"failure": "nowhere"})
            except Exception as error:  # noqa: BLE001 - a failure of the checker: the link's verdict, in words
                judged = Link("error", counterexample={"failure": failure_kind(error)})
            if judged.verdict == "wrong" and len(chain) > 2 and (starts_chain or position > 0):
                judged = replace(judged, sides=(printer.doprint(revealed(a)), printer.doprint(revealed(b))))
            links.append(judged)
        if starts_chain and not line.implies and links and all(lk.verdict == "equal" for lk in links) \
                and _as_defined(known, chain):
            # yhat = sigma(z) = 1/(1+e^-z): the problem's definition of yhat, written out as it defines it
            links = [Link("definition", "definition", ("definition",), name=line.parts[0].strip())]
        if starts_chain and len(values) == 1:
            links.append(Link("start", "statement"))
        after_unreadable = not starts_chain and current is None and bool(results[:-1])
        current = chain[-1] if chain and chain[-1] is not None else current
        verdict = _worst(links) if links else "start"
        named = [lk for lk in links if lk.verdict == verdict]
        rule = named[0].rule if named else None
        entry.update(verdict=verdict, rule=rule, feedback=_feedback(verdict, named, phrases, rules,
                                                                   first_error is not None, known.names, course))
        if after_unreadable and not links:
            entry["feedback"] = phrases["after_unreadable"]
        if verdict == "wrong" and first_error is None:
            first_error = line.n
        expected = next((lk.expected for lk in links if lk.verdict == "wrong" and lk.expected is not None), None)
    if progress is not None:
        progress(results)
    final = final_result(known, derivation, subject, current, expected if verdict == "wrong" else None,
                         links if verdict in ACCEPTED and first_error is None else None,
                         Own(bound, conditions, *subject_written) if bound else None) \
        if texts is None else vector_final(known, derivation, table, texts)
    if final["target"] is None and final["verdict"] in ("incorrect", "no_target"):
        final = {**final, "results": list(derivation.targets)}  # the results the last line reaches none of
    return {"problem": problem, "lines": results, "final": final, "first_error": first_error}


_ORDER = ("wrong", "error", "undecided", "skips", "valid", "definition", "equal", "start")
#: The verdicts of a link that holds.
ACCEPTED = ("skips", "valid", "definition", "equal")


def _worst(links: list[Link]) -> str:
    return min((lk.verdict for lk in links), key=_ORDER.index)


def _feedback(verdict: str, links: list[Link], phrases: Mapping, rules: Mapping, carried: bool,
              names: Mapping[str, str], course: str = "") -> str:
    link_ = links[0] if links else Link(verdict)
    named = ", ".join(rules.get(r, r) for r in (link_.rules or ((link_.rule,) if link_.rule else ())))
    if verdict == "wrong" and link_.name is not None:
        text = phrases["definition_wrong"].format(name=link_.name)
        counter = link_.counterexample
        if counter and "point" in counter:
            point = ", ".join(f"{names.get(k, k)} = {v}" for k, v in counter["point"].items()) or phrases["a_density"]
            text += " " + phrases["definition_counterexample"].format(point=point, left=counter["left"],
                                                                         right=counter["right"])
    elif verdict == "wrong":
        text = phrases["wrong"] if link_.sides is None else phrases["wrong_link"].format(
            left=link_.sides[0], right=link_.sides[1])
        counter = link_.counterexample
        if counter and "difference" in counter:
            text += " " + phrases["difference"].format(difference=counter["difference"])
        elif counter:
            point = ", ".join(f"{names.get(k, k)} = {v}" for k, v in counter["point"].items()) or phrases["a_density"]
            which = "counterexample" if link_.sides is None else "link_counterexample"
            text += " " + phrases[which].format(point=point, left=counter["left"], right=counter["right"])
    elif verdict in ("error", "undecided"):  # a failure inside in words (failure_*), never an exception
        failure = (link_.counterexample or {}).get("failure", "internal" if verdict == "error" else "nowhere")
        text = phrases[verdict].format(reason=phrases[f"failure_{failure}"], rule=phrases[f"failure_{failure}"])
    elif verdict == "definition" and link_.rule == "premise":
        text = phrases["premise"].format(law=link_.name)
    elif verdict == "definition" and link_.rule == "own-name":
        text = phrases["own_name"].format(name=link_.name)
    elif verdict == "definition" and link_.rule == "name":
        text = phrases["name_bound"].format(name=link_.name, value=link_.sides[0])
    elif verdict == "definition":
        text = phrases["definition"].format(name=link_.name)
    elif link_.sizes is not None:
        text = phrases["entrywise"].format(sizes=link_.sizes)
    elif link_.convention is not None and link_.convention.kind == "condition":
        text = phrases["under_condition"].format(condition=link_.convention.latex)
    elif link_.convention is not None:
        convention = phrases[f"convention_{link_.convention.kind}"].format(
            name=link_.convention.latex, course=course or "-", **dict(link_.convention.fields))
        text = phrases["under_convention"].format(convention=convention)
    else:
        text = phrases[verdict].format(rule=named or phrases["algebra"])
    return text + (" " + phrases["carried"] if carried and verdict not in ("wrong", "error") else "")
