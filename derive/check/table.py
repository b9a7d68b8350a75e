"""The reading table: how the names a student may write map to a derivation's SymPy objects.

Built from the derivation's own notation (each quantity's LaTeX and its aliases) and every notation
profile's name for it, so the checker reads whatever notation the renderer prints, plus the course's
variants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from ..engine import Derivation
from ..notation import LOSS_NAMES, REAL, Quantity
from ..profiles import written_forms

_WRAPPERS = re.compile(r"\\(?:text|mathrm|operatorname|mathit|mathsf|rm|textrm|mathbf|boldsymbol|bm)\s*")
_HATS = re.compile(r"\\(?:hat|widehat)\s*\{?\s*([A-Za-z])\s*\}?")
_ELEMENT_INDEX = re.compile(r"_\{?[ij]{1,2}\}?")
_LAYER = re.compile(r"\^\{?\(l(?:[+-]1)?\)\}?")
#: A statistic's name: \operatorname{Var}(W), \mathbb{E}[(a^{(l-1)})^2] (a profile writes 𝔼 blackboard bold).
_STATISTIC = re.compile(r"\s*\\(?:operatorname|mathrm|text|mathbb)\{(Var|E|std)\}\s*[\(\[](.*)[\)\]]\s*")


def name_key(latex: str) -> str:
    """The canonical key of a written name: ``n_{\\text{in}}``, ``n_{in}`` and ``n_in`` all give ``n_in``."""
    text = _HATS.sub(r"hat(\1)", latex)
    text = _WRAPPERS.sub("", text).replace(r"\_", "_")
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)
    return re.sub(r"[{}\s]", "", text)


def argument_keys(latex: str) -> tuple[str, ...]:
    """The keys of a random variable's name, without element indices: W_{ij}^{(l)} is W^(l),
    and then, for a name that does not say its layer, W."""
    exact = name_key(_ELEMENT_INDEX.sub("", latex))
    loose = name_key(_LAYER.sub("", _ELEMENT_INDEX.sub("", latex)))
    return (exact,) if loose == exact else (exact, loose)


@dataclass
class ReadingTable:
    """What names mean in one problem.

    Attributes:
        names: name key -> SymPy object (a Symbol, an undefined Function class, an IndexedBase).
        functions: name key -> a callable building an application (sigma -> sigma(.)).
        defaults: function -> the argument a bare use means (sigma -> x).
        statistics: ``Var(W)``-style keys -> the quantity's symbol (``std(W)`` -> its square root).
        derivatives: ``d(L)/d(w_1)``-style keys -> the quantity's symbol.
        quantities: every quantity (for domains), including ones the reader creates.
        log_base_e: whether ``\\log`` is the natural logarithm (the default).
        ambiguous: name keys that two quantities share (the reader says so when it meets one).
        preferred: the symbols of the target being checked: an ambiguous name means one of them.
        written: a quantity's written forms of several tokens (``\\max_x \\sigma'(x)``), matched
            against a whole side of an answer.
        arity: how many indices each indexed family of the problem takes (delta_{11} is delta_{1,1}).
        densities: name key of a random variable (``z``, ``z^(l-1)``) -> the variable and density its
            second moment integrates against (prelu-init's Var(z^{(l-1)}) = int z^2 p(z) dz): an
            expectation E[g(z^{(l-1)})] the problem does not name is that integral of g.
        declared: the problem's own names' objects, as built (a name the reader invents later for one
            answer, such as y-hat in mlp-backprop, is not among them).
        applied_only: function names that apply only to an argument list written after them
            (``f(x)``); alone they are plain symbols (``f = ma``).
        gradient: the one entry (``x_k``) the problem's derivatives are taken with respect to, if there is
            one: ``\\nabla E`` written without its variable is dE/dx_k (None: such a gradient is unreadable).
    """

    names: dict[str, sp.Basic] = field(default_factory=dict)
    functions: dict[str, sp.FunctionClass] = field(default_factory=dict)
    defaults: dict[sp.FunctionClass, sp.Basic] = field(default_factory=dict)
    statistics: dict[str, sp.Basic] = field(default_factory=dict)
    derivatives: dict[str, sp.Symbol] = field(default_factory=dict)
    quantities: dict[sp.Basic, Quantity] = field(default_factory=dict)
    log_base_e: bool = True
    ambiguous: dict[str, tuple[sp.Basic, ...]] = field(default_factory=dict)
    preferred: set[sp.Basic] = field(default_factory=set)
    applied_only: set[str] = field(default_factory=set)
    written: dict[str, sp.Basic] = field(default_factory=dict)
    arity: dict[sp.IndexedBase, int] = field(default_factory=dict)
    densities: dict[str, tuple[sp.Symbol, sp.FunctionClass]] = field(default_factory=dict)
    declared: frozenset = frozenset()
    gradient: sp.Indexed | None = None

    def add(self, quantity: Quantity, written: str) -> None:
        """Register one way of writing a quantity."""
        symbol = quantity.symbol
        statistic = _STATISTIC.fullmatch(written)
        partial = re.fullmatch(r"\s*\\frac\{\\partial\s*(.+?)\}\{\\partial\s*(.+)\}\s*", written)
        if statistic:
            exact, *loose = argument_keys(statistic.group(2))
            self.statistics[f"{statistic.group(1)}({exact})"] = symbol
            for key in loose:  # Var(z^{(l)}) may be written Var(z) where no other quantity is
                self.statistics.setdefault(f"{statistic.group(1)}({key})", symbol)
        elif partial:
            self.derivatives[f"d({name_key(partial.group(1))})/d({name_key(partial.group(2))})"] = symbol
        elif isinstance(symbol, sp.FunctionClass):
            key = name_key(written)
            held = self.quantities.get(self.functions.get(key))
            # an alias never takes another quantity's own name (vanishing's f, alias \sigma, after sigma)
            if held is None or held.symbol == symbol or name_key(held.latex) != key or name_key(quantity.latex) == key:
                self.functions[key] = symbol
        else:
            key = name_key(written)
            if key in self.names and self.names[key] != symbol:
                earlier = self.ambiguous.get(key, (self.names[key],))
                if symbol not in earlier:  # every one (vanishing's x, alias z, its real z and its positive z)
                    self.ambiguous[key] = (*earlier, symbol)
            self.names.setdefault(key, symbol)

    def depends_on(self, value: sp.Basic, family: sp.IndexedBase) -> bool:
        """Whether ``value`` involves the family, directly (x_i) or through a quantity defined in terms of
        it (log-softmax's p, whose meaning is the softmax of x)."""
        if value.has(family):
            return True
        atoms = {a.base if isinstance(a, sp.Indexed) else a for a in value.atoms(sp.Indexed, sp.Symbol)}
        meanings = [self.quantities[a].meaning for a in atoms if a in self.quantities]
        return any(isinstance(m, sp.Basic) and m.has(family) for m in meanings)

    def symbol_for(self, key: str) -> sp.Symbol:
        """A symbol the problem does not declare (kept, so that the answer can be judged)."""
        if key not in self.names:
            symbol = sp.Symbol(key, real=True)
            self.names[key] = symbol
            self.quantities[symbol] = Quantity(key, symbol, key, REAL)
        return self.names[key]


def narrower(new: sp.Basic, old: sp.Basic) -> bool:
    """Whether ``new`` is ``old``'s name with more assumptions (vanishing's positive family z, the ReLU
    part's active units, beside its real z): a name shared by both means the general one unless the
    target being checked is about the narrower one."""
    labels = [getattr(o, "label", o) for o in (new, old)]
    if type(new) is not type(old) or str(new) != str(old) or not all(isinstance(s, sp.Symbol) for s in labels):
        return False
    wider, narrower = (set(s.assumptions0.items()) for s in reversed(labels))
    return wider < narrower


#: Names that are functions by convention in free expressions, when an argument list follows.
CONVENTIONAL_FUNCTIONS = ("f", "g", "h")


def neutral_table(log_base_e: bool = True) -> ReadingTable:
    """The table of free expressions: no course aliases, every name is itself (z is not x,
    theta and sigma are plain symbols), and f, g, h are functions where applied: f(x)."""
    table = ReadingTable(log_base_e=log_base_e)
    for name in CONVENTIONAL_FUNCTIONS:
        declare_function(table, name, sp.Function(name))
    return table


def declare_function(table: ReadingTable, name: str, function: sp.FunctionClass) -> None:
    """Make ``name`` an unknown function where an argument list follows it (``F(x)``), compared at
    concrete smooth functions of one variable, as an unknown activation is."""
    from ..notation import SMOOTH_FUNCTION

    table.functions[name] = function
    table.applied_only.add(name)
    table.quantities[function] = Quantity(name, function, name, SMOOTH_FUNCTION)


def table_for(derivation: Derivation | None, log_base_e: bool = True) -> ReadingTable:
    """The reading table of a derivation (or, with None, the neutral table of free expressions)."""
    if derivation is None:
        return neutral_table(log_base_e)
    table = ReadingTable(log_base_e=log_base_e)
    quantities = derivation.quantities
    for quantity in quantities:
        table.quantities[quantity.symbol] = quantity
        named = written_forms(quantity, derivation)  # every notation profile's name for it
        for written in (quantity.latex, *quantity.aliases, *named, quantity.key):
            table.add(quantity, written)
    for function in table.functions.values():
        table.defaults[function] = _default_argument(derivation, function)
    _activations(table)
    if derivation:
        # the reader's tokens, imported late: the reader imports this module
        from .reader.course import written_names

        _course_statistics(table)
        _densities(table)
        _loss_names(table)
        table.written = written_names(table)
        sides = [e for t in derivation.targets.values() for e in (t.lhs, t.rhs)]
        sides += [e for s in derivation.steps for e in (s.lhs, s.rhs) if e is not None]
        sides += [q.meaning for q in derivation.quantities if isinstance(q.meaning, sp.Basic)]
        _applied_functions(table, sides)
        table.declared = frozenset(table.names.values()) | frozenset(table.quantities)
        table.arity = {entry.base: len(entry.indices) for side in sides for entry in side.atoms(sp.Indexed)}
        table.gradient = _gradient_variable(sides)
        for name in CONVENTIONAL_FUNCTIONS:  # seed 001 2.5's a_{ij} = f(z_{ij}) where the problem has no f
            if name not in table.names and name not in table.functions:
                declare_function(table, name, sp.Function(name))
    return table


def _gradient_variable(sides: list[sp.Basic]) -> sp.Indexed | None:
    """The one entry with symbolic indices (x_k) that the derivation's derivatives are taken with respect
    to; None where there is none or several (mlp-backprop's W_ij, b_i, z_j)."""
    variables = {v for side in sides if isinstance(side, sp.Basic) for d in side.atoms(sp.Derivative)
                 for v in d.variables if isinstance(v, sp.Indexed) and all(i.is_Symbol for i in v.indices)}
    return variables.pop() if len(variables) == 1 else None


def _applied_functions(table: ReadingTable, sides: list[sp.Basic]) -> None:
    """Functions the derivation applies without declaring them as quantities (the activation f of
    Xavier's error recursion, f'(z_j^{(l-1)})): read where an argument list follows, as that function."""
    for side in sides:
        for applied in (side.atoms(AppliedUndef) if isinstance(side, sp.Basic) else ()):
            name = str(applied.func)
            if not (name in table.functions or name in table.names or applied.func in table.quantities):
                declare_function(table, name, applied.func)


#: The course's rectifiers by name, where the problem does not name them otherwise: ReLU(z) is z for
#: z > 0 and 0 otherwise; PReLU (leaky ReLU) has the problem's own slope alpha for z <= 0.
_RECTIFIERS = {"ReLU": None, "relu": None, "PReLU": "alpha", "prelu": "alpha", "LeakyReLU": "alpha"}


def _activations(table: ReadingTable) -> None:
    """\\text{PReLU}(z), \\operatorname{ReLU}(z): the rectifiers, where the problem has what they need (its
    slope alpha for PReLU) and does not use the name for something else."""
    variable = sp.Dummy("t", real=True)
    for name, slope in _RECTIFIERS.items():
        if name in table.functions or name in table.names or (slope is not None and slope not in table.names):
            continue
        negative = 0 if slope is None else table.names[slope] * variable
        table.functions[name] = sp.Lambda(variable, sp.Piecewise((variable, variable > 0), (negative, True)))


_MOMENT_KEY = re.compile(r"E\(\((.+)\)\^2\)|E\((.+)\^2\)|Var\((.+)\)")


def _densities(table: ReadingTable) -> None:
    """The random variables whose second moment the problem defines as int v^2 p(v) dv over the line:
    the names its statistics give them (E[(z^{(l-1)})^2], Var(z)) -> (v, p)."""
    for symbol, quantity in table.quantities.items():
        meaning = quantity.meaning
        if not isinstance(meaning, sp.Integral) or len(meaning.limits) != 1 or len(meaning.limits[0]) != 3:
            continue
        variable, low, high = meaning.limits[0]
        densities = [f for f in meaning.function.atoms(AppliedUndef) if f.args == (variable,)]
        if (low, high) != (-sp.oo, sp.oo) or len(densities) != 1:
            continue
        (density,) = densities
        if meaning.function != variable**2 * density:
            continue
        for key, value in table.statistics.items():
            match = _MOMENT_KEY.fullmatch(key)
            if value == symbol and match:
                table.densities.setdefault(next(g for g in match.groups() if g), (variable, density.func))


def _course_statistics(table: ReadingTable) -> None:
    """The course's other ways of writing a statistic: std(W) for the root of Var(W), and a lower-case
    argument, Var(w), where the lower-case name means nothing else in the problem."""
    for key, value in list(table.statistics.items()):
        operator, argument = key.split("(", 1)
        if operator == "Var":
            table.statistics.setdefault(f"std({argument}", sp.sqrt(value))
    for key, value in list(table.statistics.items()):
        operator, argument = key.split("(", 1)
        lowered = argument[0].lower() + argument[1:]
        if lowered != argument and not argument[1:2].isalpha() and argument[0].lower() not in table.names:
            table.statistics.setdefault(f"{operator}({lowered}", value)


def _loss_names(table: ReadingTable) -> None:
    """E, J, \\ell, \\mathcal{L} for the loss L, where L is the problem's loss (a defined quantity,
    or the numerator of its gradients) and the other name means nothing else in the problem."""
    loss = table.names.get("L")
    gradients = [key for key in table.derivatives if key.startswith("d(L)/")]
    if loss is not None:
        quantity = table.quantities.get(loss)
        if quantity is None or quantity.domain is not None or quantity.meaning is None:
            return  # L is a size here (the number of layers), not a loss
    elif not gradients:
        return
    for written in LOSS_NAMES:
        key = name_key(written)
        if key in table.names or key in table.functions:
            continue
        if loss is not None:
            table.names[key] = loss
        for gradient in gradients:
            table.derivatives.setdefault(f"d({key})/" + gradient[len("d(L)/"):], table.derivatives[gradient])


def _default_argument(derivation: Derivation | None, function: sp.FunctionClass) -> sp.Basic:
    """What a bare function name means: its argument in the targets (sigma -> sigma(x))."""
    if derivation:
        sides = [e for t in derivation.targets.values() for e in (t.lhs, t.rhs)]
        sides += [e for s in derivation.steps for e in (s.lhs, s.rhs) if e is not None]
        for side in sides:
            for applied in side.atoms(function):
                return applied.args[0]
    return sp.Symbol("x", real=True)
