"""Names: identifiers with their subscripts and layer labels, resolved through the reading table."""

from __future__ import annotations

import re

import sympy as sp

from ..table import argument_keys, name_key
from .tokens import BUILTIN, GREEK, MAX_LAYER_DIGITS, NAME_WRAPPERS, ReadError

#: The statistics as written (\text{var} is the variance) -> their names in the reading table.
STATISTICS = {"Var": "Var", "var": "Var", "VAR": "Var", "E": "E", "std": "std", "Std": "std"}


def written_so_far(parser, start: int) -> str:
    """The tokens read since ``start``, as written."""
    return "".join(t[1] for t in parser.tokens[start:parser.index])


class Names:
    """The parser's rules for names (mixed into :class:`~derive.check.reader.grammar.Parser`)."""

    #: Read every layer label relative to l shifted by this much: with +1, delta^{(l-1)} is delta^{(l)}.
    #: A statement about every layer l holds after a shift exactly when it held before; the caller picks
    #: the shift that makes the left side a name of the problem (see :func:`derive.check.reader.read`).
    layer_shift: int = 0

    # -- names ---------------------------------------------------------------------
    def identifier(self) -> sp.Basic:
        """A name with its subscript, resolved through the table: n_{\\text{in}}, \\hat y, p_k, M_{l-1}."""
        start = self.index
        kind, text, position = self.take()
        if text in (r"\hat", r"\widehat"):
            base = f"hat({self.name_text()})"
        elif text[1:] in NAME_WRAPPERS:
            base = self.wrapped_name(text)
        elif text in (r"\mathbb", r"\mathbf"):
            base = name_key(self.name_text())
        elif text == r"\nabla":  # \nabla W^{(l)}: a gradient named in the notation table
            if self.at("_"):
                raise self.fail("a gradient \\nabla_{...} is a vector or matrix, read only as a vector form")
            gradient = self.gradient_entry()
            if gradient is not None:
                return gradient
            kind, following, _ = self.take()
            if kind != "letter" and (following[1:] in BUILTIN or following[1:] in self.table.functions
                                     or following in ("(", "[")):
                raise self.fail("a gradient \\nabla of an expression needs its variable here: write "
                                "\\frac{\\partial ...}{\\partial x_k}")  # never a name 'nablalog' times it
            base = "nabla" + (self.letters(following) if kind == "letter" else following.lstrip("\\"))
        elif kind == "letter":
            base = self.letters(text)
        else:
            base = text[1:]
        if (base in BUILTIN or base in self.table.functions) and (
                base not in self.table.applied_only or self.at("(", "'")):  # f(x) applies; f alone is a name
            return self.application(base)
        if base in STATISTICS and self.at("(", "["):  # Var, var, E, std: \text{var}[z], \mathbb{E}[a^2]
            return self.statistic_entry(self.statistic(STATISTICS[base], position))
        if base == "E" and kind == "command" and (self.peek()[0] == "letter" or self.peek()[1][1:] in GREEK):
            return self.bare_mean(position)  # \mathbb{E} W_{ij}^{(l)}: the mean of one name, no brackets
        if base in ("1", "I") and self.at("[", "_"):
            return self.indicator()
        if base == "softmax":
            return self.softmax()
        if base == "e" and "e" not in self.table.names and not self.at("_"):
            return sp.E
        if base == "pi":
            return sp.pi
        label = self.layer_label()  # z^{(l)}_j: a layer label before the subscript
        subscript = ""
        if self.at("_"):
            self.take()
            subscript_start = self.index
            self.subscript_token()
            subscript = " ".join(t[1] for t in self.tokens[subscript_start:self.index])
        if label is None and subscript:
            label = self.layer_label()  # z_j^{(l)}: the label after it
        if self.layer_shift and "l" not in self.bound and re.search(r"(?<![A-Za-z])l(?![A-Za-z])", subscript):
            raise self.fail("cannot shift the layer of a name whose subscript names the layer "
                            f"({written_so_far(self, start)})")
        labeled = f"{base}^{label}" if label else base
        if label and self.family_named(labeled) is not None and subscript:
            return self.entry(self.family_named(labeled), subscript)
        if base == "delta" and not label and self.kronecker(subscript):
            return sp.KroneckerDelta(*self.entry(sp.IndexedBase("delta", real=True), subscript).indices)
        bound_entry = self.bound_entry(labeled, subscript)
        if bound_entry is not None:
            return bound_entry
        plain = name_key(f"{base}_{{{subscript}}}") if subscript else base
        keys = [f"{plain}^{label}", name_key(f"{labeled}_{{{subscript}}}")] if label else [plain]
        key = next((k for k in keys if k in self.bound or k in self.table.ambiguous or k in self.table.names),
                   keys[0])
        written = "".join(t[1] for t in self.tokens[start:self.index])
        if label and key not in self.table.names and key not in self.table.ambiguous:
            return self.unknown_layer(labeled, key, subscript)
        return self.as_vector(self.resolve(key, base, subscript, written))

    def gradient_entry(self) -> sp.Basic | None:
        """\\nabla E without its variable (seed 001 2.2's \\nabla \\log \\text{softmax}(x)_{[i]}): the entry
        dE/dx_k of the gradient, x_k being the entry the problem's own derivatives take (log-softmax's
        d log p_i / dx_k; a ``cases`` block after it then gives entry k case by case). None (nothing taken)
        where the problem differentiates with respect to no single entry, where the following name is a
        gradient the problem names (\\nabla W), or where E depends on no quantity of the problem's x
        (\\nabla f of an undeclared f stays an unknown, never a derivative that is 0)."""
        variable = self.table.gradient
        kind, text, _ = self.peek()
        if variable is None or (kind == "letter" and any(key.startswith("nabla" + text) for key in self.table.names)):
            return None
        start = self.index
        value = self.scalar(self.term(), "take the gradient of")
        whole = value.xreplace({entry: sp.Dummy() for entry in value.atoms(sp.Indexed)}).atoms(sp.IndexedBase)
        if whole:  # \nabla f(x) of an undeclared f: f times the family x written whole, no scalar
            raise self.fail(f"cannot take the gradient of {', '.join(sorted(map(str, whole)))} written whole "
                            "outside a vector form: write its entries")
        if not self.table.depends_on(value, variable.base):
            self.index = start
            return None
        return sp.Derivative(value, variable)

    def kronecker(self, subscript: str) -> bool:
        """Whether \\delta_{i, u + p} with no layer label is a Kronecker delta: two indices, one of them a
        sum's, where the problem's delta is a family written with its layer (conv-backprop's
        \\delta^{(l)}, which an unlabeled \\delta of a sum's index never means)."""
        labeled = any(key.startswith("delta^(") for key in self.table.names)
        parts = [p for p in subscript.strip().strip("{}").split(",") if p.strip()]
        letters = set(re.findall(r"[A-Za-z]+", subscript))
        return labeled and len(parts) == 2 and bool(letters & set(self.bound))

    def entry(self, family: sp.IndexedBase, subscript: str) -> sp.Basic:
        """An entry of an indexed family: x_k, W_{kj} (two one-letter indices), W_{k,j}, z_{(i-u)(j-v)}."""
        text = subscript.strip()
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1].strip()
        pieces = text.split()
        if "," in text:
            parts = [p.strip() for p in text.split(",")]
        elif len(pieces) == 2 and all(len(p) == 1 and p.isalnum() for p in pieces):
            parts = pieces
        elif text.startswith("(") and text.endswith(")") and ")(" in text.replace(" ", ""):
            compact = text.replace(" ", "")
            parts = compact[1:-1].split(")(", 1)
        else:
            parts = [text]
        indices = []
        for part in self.split_digits(family, parts):
            inner = type(self)(part, self.table)
            inner.bound = self.bound
            indices.append(inner.expression_only())
        return family[tuple(indices)] if len(indices) > 1 else family[indices[0]]

    def subscript_token(self) -> None:
        """Pass over a subscript: a {group}, one digit of a number (x_12 is x_1 2), or one token (S_j^{(3)}:
        the label after j is S's, not j's)."""
        if self.at("{"):
            self.skip_group()
        elif self.peek()[0] == "number":
            self.group_or_single()
        elif self.peek()[0] == "end":
            raise self.fail("a subscript is missing after '_'")
        else:
            self.take()

    def wrapped_name(self, command: str) -> str:
        """The name in \\text{PReLU}, \\operatorname{Var}: letters and digits only (no command runs inside
        it), and a name the problem does not know is no function: \\text{PReLU}(z) there is unreadable,
        never the product of a symbol PReLU and z."""
        base = name_key(self.name_text())
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", base):
            raise self.fail(f"cannot read {command}{{...}} around something that is not a name")
        known = any(base in names for names in (self.table.names, self.table.functions, BUILTIN, STATISTICS))
        if len(base) > 1 and not known and self.at("(") and base not in ("softmax", "diag"):
            raise self.fail(f"{base} is not a function of this problem")
        return base

    def layer_label(self) -> str | None:
        """The layer label ``^{(l-1)}``, ``^{(3)}`` after a name (taken), as a key part ``(l-1)``; None
        (nothing taken) when the superscript is not one. A label is an index, never a power."""
        if not (self.at("^") and self.peek(1)[1] == "{" and self.peek(2)[1] == "("):
            return None
        end = self.matching(self.index + 1)
        inside = self.tokens[self.index + 3:end - 1]
        if self.tokens[end - 1][1] != ")" or not inside or any(
                kind not in ("letter", "number") and text not in ("+", "-") for kind, text, _ in inside):
            return None
        if any(kind == "number" and len(text) > MAX_LAYER_DIGITS for kind, text, _ in inside):
            raise self.fail(f"a layer index of more than {MAX_LAYER_DIGITS} digits", refused=True)
        label = name_key("".join(t[1] for t in self.tokens[self.index + 1:end + 1]))
        self.index = end + 1
        return self.shifted(label)

    def shifted(self, label: str) -> str:
        """A label (l-1) read with the parser's layer shift (+1: (l)); labels that name no layer
        relative to l, (L) or (3), stay as written."""
        match = re.fullmatch(r"\(l(?:([+-])(\d+))?\)", label)
        if not self.layer_shift or match is None:
            return label
        sign, digits = match.groups()
        offset = (int(digits) * (1 if sign == "+" else -1) if sign else 0) + self.layer_shift
        return "(l)" if offset == 0 else f"(l{offset:+d})"

    def unknown_layer(self, labeled: str, key: str, subscript: str) -> sp.Basic:
        """A name at a layer the problem does not name (z^{(l-1)} where it names z, S_j^{(3)}): a
        quantity of its own, never the name at another layer; with a subscript an entry of its own
        family, in vector mode the vector of its entries."""
        if subscript:
            return self.entry(sp.IndexedBase(labeled, real=True), subscript)
        if self.sizes:
            return self.as_vector(sp.IndexedBase(labeled, real=True))
        return self.table.symbol_for(key)

    def with_label(self, key: str) -> str:
        """x^{(l)}: a superscript label belongs to the name when the table knows the name so."""
        if self.at("^") and self.peek(1)[1] == "{" and self.peek(2)[1] == "(":
            end = self.matching(self.index + 1)
            label = name_key("".join(t[1] for t in self.tokens[self.index + 1:end + 1]))
            if f"{key}^{label}" in self.table.names:
                self.index = end + 1
                return f"{key}^{label}"
        return key

    def resolve(self, key: str, base: str, subscript: str, written: str) -> sp.Basic:
        if key in self.bound:
            return self.bound[key]
        if key in self.table.ambiguous:
            self.notes.append(f"ambiguous:{written}")
            preferred = [s for s in self.table.ambiguous[key] if s in self.table.preferred]
            if preferred:
                return preferred[0]
        if key in self.table.names:
            return self.table.names[key]
        family = self.table.names.get(base)
        if isinstance(family, sp.IndexedBase) and subscript:
            return self.entry(family, subscript)
        if base == "delta" and len(name_key(subscript)) == 2:
            first, second = name_key(subscript)
            return sp.KroneckerDelta(*(self.bound.get(n) or self.table.names.get(n) or self.table.symbol_for(n)
                                       for n in (first, second)))
        if key in ("C", "K") and "C" in self.table.names:
            return self.table.names["C"]
        return self.table.symbol_for(key)

    def expression_only(self) -> sp.Basic:
        value = self.expression()
        if self.peek()[0] != "end":
            raise self.fail("cannot read this index")
        return value

    def letters(self, first: str) -> str:
        """A run of letters is one name when the table knows it (fan, Var, softmax); else one letter."""
        run, index = first, self.index
        while index < len(self.tokens) and self.tokens[index][0] == "letter":
            run += self.tokens[index][1]
            index += 1
        known = set(self.table.names) | set(self.table.functions) | {"Var", "E", "softmax", "exp", "log",
                                                                     "ln", "tanh", "sech", "cosh", "sinh"}
        for length in range(len(run), 1, -1):
            word = run[:length]
            if word in known or any(k.startswith(word + "_") for k in self.table.names):
                self.index += length - 1
                return word
        return first

    def name_text(self) -> str:
        if self.at("{"):
            end = self.matching(self.index)
            text = "".join(t[1] for t in self.tokens[self.index + 1:end])
            self.index = end + 1
            return text
        return self.take()[1]

    def skip_group(self) -> None:
        self.index = self.matching(self.index) + 1

    def statistic(self, operator: str, position: int) -> sp.Basic:
        """Var(W), E[(a^{(l-1)})^2]: a named statistic of the problem."""
        opening = self.take()[1]
        if opening not in ("(", "["):
            raise ReadError(f"{operator} needs its argument in brackets", position)
        start, level = self.index, 1
        while level:
            token = self.take()
            if token[0] == "end":
                raise ReadError(f"{operator}({'...'} is never closed", position)
            level += {"(": 1, "[": 1, ")": -1, "]": -1}.get(token[1], 0)
        argument = "".join(t[1] for t in self.tokens[start:self.index - 1])
        # the name as written, its layer included: Var(z^{(l)}) is never the Var(z^{(l-1)}) that Var(z) means
        key = f"{operator}({argument_keys(argument)[0]})"
        if key in self.table.statistics:
            return self.table.statistics[key]
        value = self.unnamed_statistic(operator, start, self.index - 1)
        if value is not None:
            return value
        raise ReadError(f"{key} is not a quantity of this problem", position)

    def bare_mean(self, position: int) -> sp.Basic:
        """\\mathbb{E} W_{ij}^{(l)} (seed 001 3.1): the mean of the one name after it, a statistic of the
        problem."""
        start = self.index
        self.identifier()
        key = f"E({argument_keys(written_so_far(self, start))[0]})"
        if key not in self.table.statistics:
            raise ReadError(f"{key} is not a quantity of this problem", position)
        return self.table.statistics[key]

    def indicator(self) -> sp.Basic:
        """\\mathbb{1}[i=k], \\mathbf{1}_{i=k}: a Kronecker delta."""
        if self.take()[1] == "_":
            self.expect("{")
            left, _, right = self.expression(), self.expect("="), self.expression()
            self.expect("}")
        else:
            left, _, right = self.expression(), self.expect("="), self.expression()
            self.expect("]")
        return sp.KroneckerDelta(left, right)

    def softmax(self) -> sp.Basic:
        """softmax(x)_k: the k-th probability p_k."""
        self.expect("(")
        self.expression()
        self.expect(")")
        self.expect("_")
        family = self.table.names.get("p")
        if not isinstance(family, sp.IndexedBase):
            raise self.fail("softmax is not a quantity of this problem")
        return family[self.group_or_single()]

