"""The course's own forms: names written as the notation table writes them (a whole side such as
``\\#_{\\times}(\\text{forward})`` or ``\\max_x \\sigma'(x)``), the loss named E, J, ``\\ell`` or
``\\mathcal{L}``, ``\\tilde{\\delta}``, ``K'``, ``\\mathrm{std}(W)``, the Heaviside step ``H(x)``,
products ``\\prod``, entries of a statistic family ``\\operatorname{Var}(z)_l`` and of a family with
two one-digit indices ``\\delta_{11}``.
"""

from __future__ import annotations

import re

import sympy as sp

from ...notation import REAL
from ..table import ReadingTable, argument_keys, name_key, narrower
from .tokens import MAX_TERMS, ReadError, normalize, tokenize

_GROUPING = ("{", "}")
#: The loss as the course writes it, after a gradient: \\nabla_{b^{(l)}} L, \\nabla_{W} \\mathcal{L}.
LOSS_KEYS = ("L", "mathcalL", "E", "J", "ell", "loss")


def side_key(tokens: list[tuple[str, str, int]]) -> str:
    """The key of a written side: its tokens without grouping braces."""
    return "".join(text for _, text, _ in tokens if text not in _GROUPING)


def written_names(table: ReadingTable) -> dict[str, sp.Basic]:
    """Every plain quantity's written forms (LaTeX and aliases) of more than one token, by key."""
    written: dict[str, sp.Basic] = {}
    for quantity in table.quantities.values():
        if not isinstance(quantity.symbol, sp.Symbol):
            continue
        for form in (quantity.latex, *quantity.aliases):
            try:
                tokens = tokenize(normalize(form))
            except ReadError:
                continue
            if len([t for t in tokens if t[1] not in _GROUPING]) > 1:
                written.setdefault(side_key(tokens), quantity.symbol)
    return written


def _applied_name(key: str) -> bool:
    """Whether a written name is a function's value (f'(0), \\max_x \\sigma'(x), \\max |w_l|) or a count of
    operations (\\#_{\\times}(\\text{forward}) in mlp-cost)."""
    return "'" in key or key.startswith((r"\max", r"\#"))


def _bound_free(expr: sp.Basic) -> sp.Basic:
    """``expr`` with the indices of its sums and products renamed in order (l and a dummy l agree)."""
    bound = [limit[0] for e in sp.preorder_traversal(expr) if isinstance(e, (sp.Sum, sp.Product)) for limit in e.limits]
    return expr.xreplace({variable: sp.Symbol(f"bound.{n}") for n, variable in enumerate(dict.fromkeys(bound))})


def up_to_order(a: sp.Basic, b: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """A Taylor line ``a = b + O(z^n)``: both sides' expansions at 0 up to (not including) z^n,
    so that they are compared up to that order; other pairs unchanged. A side that SymPy cannot
    expand is left as it is (and then differs from the other)."""
    orders = [o for side in (a, b) if isinstance(side, sp.Basic) for o in side.atoms(sp.Order)]
    if not orders:
        return a, b
    order = min(orders, key=lambda o: sp.degree(o.expr, o.variables[0]))
    (variable,) = order.variables
    exponent = sp.degree(order.expr, variable)

    def cut(side: sp.Basic) -> sp.Basic:
        try:
            return sp.series(side.removeO(), variable, 0, int(exponent)).removeO()
        except Exception:  # noqa: BLE001 - SymPy's series fails in many ways; the side then stays as written
            return side
    return cut(a), cut(b)


class CourseForms:
    """The parser's rules for the course's own forms (mixed into :class:`~derive.check.reader.grammar.Parser`)."""

    #: In vector mode (see :mod:`derive.check.vectors`), the concrete sizes: a family written without its
    #: index (\\mathbf{p}, \\delta^{(l)}, W^{(l+1)}) is then the vector or matrix of its entries.
    sizes: dict | None = None

    def as_vector(self, value: sp.Basic) -> sp.Basic:
        """A family written whole, in vector mode: the column of its entries (a matrix for two indices)."""
        if not self.sizes or not isinstance(value, sp.IndexedBase):
            return value
        size = self.family_size(value)
        if self.table.arity.get(value, 1) == 2:
            return sp.ImmutableMatrix(size, size, lambda r, c: value[r + 1, c + 1])
        return sp.ImmutableMatrix([value[r] for r in range(1, size + 1)])

    def family_size(self, family: sp.IndexedBase) -> int:
        if len(self.sizes) != 1:
            raise self.fail(f"the size of {family} is not known")
        return int(next(iter(self.sizes.values())))

    def vector_form(self) -> sp.Basic | None:
        """\\mathbf{e}_i, \\operatorname{diag}(v), \\nabla_{W^{(l)}} L in vector mode; None when not one."""
        text, following = self.peek()[1], [t[1] for t in self.tokens[self.index + 1:self.index + 7]]
        if text in (r"\mathbf", r"\boldsymbol", r"\vec") and following[:3] == ["{", "e", "}"] and \
                "e" not in self.table.names and following[3:4] == ["_"]:
            self.index += 5
            index = self.group_or_single()
            size = self.family_size(sp.IndexedBase("e"))
            return sp.ImmutableMatrix([sp.KroneckerDelta(index, r) for r in range(1, size + 1)])
        if text in (r"\operatorname", r"\mathrm") and following[:6] == ["{", "d", "i", "a", "g", "}"]:
            self.index += 7
            self.expect("(")
            vector = self.expression()
            self.expect(")")
            if not isinstance(vector, sp.MatrixBase) or 1 not in vector.shape:
                raise self.fail("diag needs a vector")
            entries = list(vector)
            return sp.ImmutableMatrix(len(entries), len(entries), lambda r, c: entries[r] if r == c else 0)
        if text == r"\nabla" and following[:1] == ["_"]:
            self.index += 2
            start = self.index
            self.group_or_single() if not self.at("{") else self.skip_group()
            wrt = name_key("".join(t[1] for t in self.tokens[start:self.index]))
            wrt = re.sub(r"\(l(?:[+-]\d+)?\)", lambda match: self.shifted(match.group()), wrt)
            family = self.table.names.get(self.with_label(f"nabla{wrt}"))
            if isinstance(family, sp.IndexedBase):  # a gradient the problem names (nabla W^(l)), of its loss
                if not self.at("=", r"\end") and self.peek()[0] != "end":
                    loss = self.power()
                    if loss not in [v for k, v in self.table.names.items() if k in LOSS_KEYS]:
                        raise self.fail(f"the gradient of {loss} with respect to {wrt} is not a quantity of "
                                        "this problem")
                return self.as_vector(family)
            loss = self.power()
            variable = self.table.names.get(wrt)
            if not isinstance(variable, sp.IndexedBase) or not isinstance(loss, sp.Symbol):
                raise self.fail(f"the gradient with respect to {wrt} is not a quantity of this problem")
            return self.as_vector(variable).applyfunc(lambda entry: sp.Derivative(loss, entry))
        return None

    def transposed(self, base: sp.Basic) -> sp.Basic | None:
        """v^T, v^\\top, v^{\\top} of a vector or matrix (after the ^); None when not a transpose. A family
        written whole, outside vector mode, refuses to be transposed (never a power T)."""
        marks = [self.peek()[1]] if self.peek()[1] != "{" else [self.peek(1)[1], self.peek(2)[1]]
        if not isinstance(base, sp.MatrixBase) and (marks[0] in (r"\top", r"\intercal") or (
                marks[0] == "T" and (isinstance(base, sp.IndexedBase) or _layered(base)))):
            raise self.fail("a transposed vector or matrix is read only as a vector form, entry by entry")
        if not isinstance(base, sp.MatrixBase) or marks[0] not in ("T", r"\top", r"\intercal") or \
                (len(marks) == 2 and marks[1] != "}"):
            return None
        self.index += 1 if len(marks) == 1 else 3
        return base.T

    def total(self, terms: list) -> sp.Basic:
        """The sum of the terms; vectors and matrices of one shape add entry by entry."""
        if not any(isinstance(t, sp.MatrixBase) for t in terms):
            return sp.Add(*terms)
        if not all(isinstance(t, sp.MatrixBase) and t.shape == terms[0].shape for t in terms):
            raise self.fail("cannot add a vector and a number, or vectors of different sizes")
        value = terms[0]
        for term in terms[1:]:
            value = value + term
        return value

    def hadamard(self, left: sp.Basic, right: sp.Basic) -> sp.Basic:
        """left \\odot right: the entry-by-entry product of two vectors or matrices of one shape."""
        if not (isinstance(left, sp.MatrixBase) and isinstance(right, sp.MatrixBase) and left.shape == right.shape):
            raise self.fail("\\odot needs two vectors or matrices of the same size")
        return left.multiply_elementwise(right)

    def elementwise(self, function, argument: sp.MatrixBase, primes: int) -> sp.Basic:
        """sigma'(z) of a vector z: the function applied to each entry."""
        from .commands import _derivative

        return argument.applyfunc(lambda e: function(e) if not primes else _derivative(function, e, primes))

    def side(self) -> sp.Basic:
        """One side of an answer: a quantity written exactly as the problem writes it, else an expression."""
        depth, end = 0, self.index
        while end < len(self.tokens):
            text = self.tokens[end][1]
            depth += {"{": 1, "(": 1, "[": 1, "}": -1, ")": -1, "]": -1}.get(text, 0)
            if depth == 0 and text == "=":
                break
            end += 1
        symbol = self.table.written.get(side_key(self.tokens[self.index:end]))
        if symbol is not None and end > self.index:
            self.index = end
            return symbol
        value = self.expression()
        if value.has(sp.Sum, sp.Product):  # the target's own side, whatever its summation indices are called
            for side in self.table.preferred:
                if isinstance(side, sp.Expr) and side.has(sp.Sum, sp.Product) and _bound_free(side) == _bound_free(value):
                    return side
        return value

    def written_value(self) -> sp.Basic | None:
        """A quantity the problem writes as a function's value, read where it starts a factor:
        f'(0) in f'(0)^2, \\max_x \\sigma'(x) and \\max |w_l| inside a product; None (nothing taken)
        otherwise.
        The longest such name wins; one followed by a subscript is not it (Var(W)_l)."""
        candidates = {key: value for key, value in self.table.written.items() if _applied_name(key)}
        if not candidates:
            return None
        longest = max(len(key) for key in candidates)
        found, text, level = None, "", 0
        for index in range(self.index, len(self.tokens)):
            token = self.tokens[index][1]
            level += {"{": 1, "}": -1}.get(token, 0)
            if level < 0:
                break
            text += token if token not in _GROUPING else ""
            if len(text) > longest:
                break
            following = self.tokens[index + 1][1] if index + 1 < len(self.tokens) else ""
            if level == 0 and text in candidates and following not in ("_", "'", "("):
                found = (index + 1, candidates[text])
        if found is None:
            return None
        self.index = found[0]
        return found[1]

    def course_form(self) -> sp.Basic | None:
        """A course form at this token, or None (nothing taken) when there is none."""
        kind, text, _ = self.peek()
        value = self.written_value()
        if value is not None:
            return value
        if self.sizes:
            vector = self.vector_form()
            if vector is not None:
                return vector
        if text in (r"\ell", r"\mathcal", r"\tilde"):
            self.take()
            written = text if text == r"\ell" else f"{text}{{{self.name_text()}}}"
            key = self.with_label(name_key(written))
            if self.at("_") and isinstance(self.table.names.get(key), sp.IndexedBase):
                self.take()
                start = self.index
                self.group_or_single() if not self.at("{") else self.skip_group()
                return self.entry(self.table.names[key], " ".join(t[1] for t in self.tokens[start:self.index]))
            if key in LOSS_KEYS and key in self.table.names and self.at("_") and self.peek(1)[0] == "letter":
                self.index += 2  # \\ell_n: the loss of the sample n, the problem's loss
            return self.table.names[key] if key in self.table.names else self.table.symbol_for(key)
        if kind != "letter":
            return None
        following = self.peek(1)[1]
        if following == "'" and f"{text}'" in self.table.names:  # K' (the pooling window)
            self.index += 2
            return self.table.names[f"{text}'"]
        if text == "E" and following not in ("(", "[") and "E" in self.table.names:  # E, the loss
            self.take()
            return self.table.names["E"]
        if text == "O" and following == "(" and "O" not in self.table.names and "O" not in self.table.functions:
            self.index += 2
            argument = self.expression()
            self.expect(")")
            variables = argument.free_symbols
            if len(variables) != 1 or not isinstance(argument, (sp.Pow, sp.Symbol)):
                raise self.fail("O(...) needs a power of one variable, as in O(z^4)")
            return sp.Order(argument, (variables.pop(), 0))
        if text == "H" and following == "(" and "H" not in self.table.names and "H" not in self.table.functions:
            self.take()
            self.take()
            argument = self.expression()
            self.expect(")")
            return sp.Heaviside(argument)
        return None

    def unnamed_statistic(self, operator: str, start: int, end: int) -> sp.Basic | None:
        """A statistic the problem does not name, over the tokens ``start:end`` of its argument:
        E(z^{(l-1)})^2 as the sheets write the second moment E[(z^{(l-1)})^2] (where the mean E(z) is
        no quantity), and E[g(z^{(l-1)})] of an activation g as the integral of g against the density of
        z^{(l-1)} (seed 000 3.2: E[(PReLU(z^{(l-1)}))^2]). None when it is neither."""
        argument = "".join(t[1] for t in self.tokens[start:end])
        if operator != "E":
            return None
        squared = [t[1] for t in self.tokens[self.index:self.index + 4]]
        if squared[:2] == ["^", "2"] or squared == ["^", "{", "2", "}"]:
            key = f"E({argument_keys(f'({argument})^2')[0]})"
            if key in self.table.statistics:
                self.index += 2 if self.peek(1)[1] == "2" else 4
                self.notes.append("E(x)^2 read as E[x^2]")
                return self.table.statistics[key]
        if not self.table.densities:
            return None
        inner = type(self)(" ".join(t[1] for t in self.tokens[start:end]), self.table)
        inner.bound, inner.layer_shift = self.bound, self.layer_shift
        value = self.scalar(inner.expression_only(), "take the mean of")
        if not value.atoms(sp.Function):
            return None  # a moment of z itself (E[z], E[z^3]) is a quantity only where the problem names it
        variables, others = {}, []
        for symbol in value.free_symbols:
            quantity = self.table.quantities.get(symbol)
            names = [str(symbol)] + ([argument_keys(quantity.latex)[0]] if quantity is not None else [])
            density = next((self.table.densities[n] for n in names if n in self.table.densities), None)
            if density is not None:
                variables[symbol] = density
            elif quantity is None or quantity.domain is None or quantity.domain is REAL:
                others.append(symbol)  # another random quantity (or one the problem does not know)
        if len(set(variables.values())) != 1 or others:
            return None
        ((variable, density),) = set(variables.values())
        body = value.xreplace({symbol: variable for symbol in variables})
        return sp.Integral(body * density(variable), (variable, -sp.oo, sp.oo))

    def product(self) -> sp.Basic:
        """\\prod_{l=1}^{L} body, read as a sum is."""
        total = self.summation()
        return sp.Product(total.function, *total.limits)

    def family_named(self, key: str) -> sp.IndexedBase | None:
        """The indexed family a name means; of two that share it, the one the target uses; of a symbol and
        families that share it (vanishing's x, alias z, and its families z), the family with the fewest
        assumptions."""
        family = self.table.names.get(key)
        candidates = [c for c in self.table.ambiguous.get(key, (family,)) if isinstance(c, sp.IndexedBase)]
        for candidate in candidates:
            if any(p == candidate or (isinstance(p, sp.Indexed) and p.base == candidate) for p in self.table.preferred):
                return candidate
        if isinstance(family, sp.IndexedBase):
            return family
        # the general one of a family named twice (vanishing's real z, never its positive z by order)
        widest = [c for c in candidates if not any(narrower(c, other) for other in candidates)]
        return widest[0] if len(widest) == 1 else None

    def bound_entry(self, key: str, subscript: str) -> sp.Basic | None:
        """x_{l-1} inside a sum or a product over l: an entry of the family x, not a name such as n_{l-1}."""
        if not subscript or not self.bound or not set(re.findall(r"[A-Za-z]+", subscript)) & set(self.bound):
            return None
        family = self.family_named(key)
        return None if family is None else self.entry(family, subscript)

    def substack_sum(self) -> sp.Basic:
        """\\sum_{\\substack{0 \\le u \\le K-1 \\\\ 0 \\le v \\le K-1}} body: one sum over several indices."""
        self.expect("{")
        self.take()
        self.expect("{")
        limits, names = [], []
        while True:
            low = self.expression()
            if not self.at(r"\le", r"\leq"):
                raise self.fail("expected a range such as 0 \\le u \\le K - 1")
            self.take()
            kind, name, _ = self.take()
            if kind != "letter":
                raise self.fail("expected the index of the sum")
            if not self.at(r"\le", r"\leq"):
                raise self.fail("expected a range such as 0 \\le u \\le K - 1")
            self.take()
            high = self.expression()
            if (high - low).is_Number and high - low > MAX_TERMS:
                raise self.fail(f"a sum of more than {MAX_TERMS} terms", refused=True)
            limits.append((sp.Dummy(name, integer=True), low, high))
            names.append(name)
            if not self.at(r"\\"):
                break
            self.take()
        self.expect("}")
        self.expect("}")
        outer = dict(self.bound)
        self.bound.update({name: limit[0] for name, limit in zip(names, limits, strict=True)})
        body = self.term()
        self.bound = outer
        return sp.Sum(body, *limits)

    def statistic_entry(self, value: sp.Basic) -> sp.Basic:
        """\\operatorname{Var}(z)_l: an entry of a statistic that is a family (one per layer)."""
        if isinstance(value, sp.IndexedBase) and self.at("_"):
            self.take()
            return value[self.group_or_single()]
        return value

    def split_digits(self, family: sp.IndexedBase, parts: list[str]) -> list[str]:
        """delta_{11} of a family of two indices: two one-digit indices."""
        arity = self.table.arity.get(family)
        if arity and len(parts) == 1 and len(parts[0]) == arity and parts[0].isdigit():
            return list(parts[0])
        if arity and len(parts) != arity:
            raise self.fail(f"{family} has {arity} indices")
        return parts


def _layered(value: sp.Basic) -> bool:
    """A name at a layer (W^(l), a made-up symbol where the problem has no family; an entry W_ij^(l)):
    its ^T is a transpose, never a power T."""
    name = value.base if isinstance(value, sp.Indexed) else value
    return isinstance(name, (sp.Symbol, sp.IndexedBase)) and "^(" in str(name)
