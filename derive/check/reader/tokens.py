"""Tokens of the course reader: presentation stripped, Unicode mapped, the answer cut into tokens.

Also the reader's shared vocabulary (limits, Greek letters, built-in functions, relations) and
its result and error types.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp


MAX_LENGTH, MAX_DEPTH, MAX_DIGITS, MAX_TOWER, MAX_TERMS = 2000, 60, 2000, 3, 10_000
#: A layer label ^{(l)}, ^{(3)}: its numbers have at most this many digits (no network is deeper).
MAX_LAYER_DIGITS = 4

UNICODE = {"−": "-", "–": "-", "·": r"\cdot ", "×": r"\times ", "≤": r"\le ", "≥": r"\ge ", "≠": r"\ne ",
           "σ": r"\sigma ", "α": r"\alpha ", "δ": r"\delta ", "θ": r"\theta ", "φ": r"\varphi ",
           "Φ": r"\Phi ", "π": r"\pi ", "∂": r"\partial ", "ŷ": r"\hat{y}", "√": r"\sqrt ", "∑": r"\sum ",
           "‖": r"\| "}
DROPPED = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|bigg|Bigg|displaystyle|textstyle|limits)"
                     r"(?![a-zA-Z])")
SPACES = re.compile(r"(?<!\\)\\(?:[,;:! ]|(?:quad|qquad|enspace|thinspace)(?![a-zA-Z]))|~")
#: a trailing remark in \text{...} (" (the variance)"), dropped; never one holding a digit: "0.25 \text{ (or 0.5)}"
#: is a second answer, not a remark
ANNOTATION = re.compile(r"\\text\{[^{}0-9]*[^A-Za-z0-9_\\{}][^{}0-9]*\}\s*$")
CHINESE_OTHERWISE = re.compile(r"\\(?:text|mathrm)\{\s*(?:否则|其他|其它|其余)\s*\}")
TOKEN = re.compile(r"(?P<number>\d+(?:\.\d+)?|\.\d+)|(?P<command>\\(?:[a-zA-Z]+|.))|(?P<letter>[a-zA-Z])"
                   r"|(?P<symbol>[-+*/^_()\[\]{}=,'!|<>&.:;])|(?P<space>\s+)")
GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "phi", "varphi", "chi", "psi", "omega", "Phi",
         "Sigma", "Delta", "Theta", "Lambda", "Omega", "Psi"}
BUILTIN = {"sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
           "sech": sp.sech, "csch": sp.csch, "coth": sp.coth, "exp": sp.exp, "ln": sp.log, "log": sp.log,
           "sign": sp.sign, "sgn": sp.sign, "erf": sp.erf, "csc": sp.csc, "sec": sp.sec, "cot": sp.cot,
           "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan, "arccot": sp.acot, "arcsinh": sp.asinh,
           "arccosh": sp.acosh, "arctanh": sp.atanh, "lg": lambda argument: sp.log(argument, 10)}
#: f^{-1}: the inverse function, never 1/f; a built-in function not here refuses ^{-1} as ambiguous.
INVERSES = {"sin": sp.asin, "cos": sp.acos, "tan": sp.atan, "cot": sp.acot, "sec": sp.asec, "csc": sp.acsc,
            "sinh": sp.asinh, "cosh": sp.acosh, "tanh": sp.atanh, "coth": sp.acoth, "sech": sp.asech,
            "csch": sp.acsch}
#: Commands that end a product rather than start another factor.
NOT_FACTORS = {r"\cdot", r"\times", r"\end", r"\over", r"\le", r"\leq", r"\ge", r"\geq", r"\ne", r"\neq",
               r"\\", r"\to", r"\approx", r"\lt", r"\gt", r"\leqslant", r"\geqslant", r"\in", r"\cup",
               r"\cap", r"\setminus", r"\pm", r"\mp", r"\}", r"\rfloor", r"\rceil", r"\%", r"\land", r"\lor"}
#: Units after a value: dropped, with a note (a name of the problem is never a unit).
UNITS = {"m", "cm", "mm", "km", "nm", "kg", "g", "mg", "s", "ms", "h", "min", "KB", "kB", "MB", "GB", "TB",
         "bit", "bits", "byte", "bytes", "params", "parameters", "FLOPs", "FLOP", "flops", "meters", "metres",
         "meter", "seconds", "second", "hours", "minutes", "units", "degrees", "percent", "Hz", "kHz", "MHz",
         "GHz", "mL", "ml", "dollars", "yuan"}
RELATIONS = {"<": sp.StrictLessThan, ">": sp.StrictGreaterThan, "le": sp.LessThan, "leq": sp.LessThan,
             "ge": sp.GreaterThan, "geq": sp.GreaterThan, "=": sp.Eq, "ne": sp.Ne, "neq": sp.Ne}
NAME_WRAPPERS = {"text", "mathrm", "operatorname", "mathit", "mathsf", "textrm", "rm"}
OTHERWISE = {"otherwise", "else", "否则", "其他"}
#: Words that separate answers (6 \text{ and } 8 is the list 6, 8, never a product); between relations
#: they are \land and \lor (x < 0 \text{ or } x > 3).
AND_WORDS = re.compile(r"\\(?:text|mathrm|textrm)\{\s*(?:and|und|和|以及|及|且)\s*\}")
OR_WORDS = re.compile(r"\\(?:text|mathrm|textrm)\{\s*(?:or|oder|或|或者)\s*\}")
#: 1 000 and 1\,000: groups of exactly three digits after a space are one number (not after ^, _, \frac).
SPACED_THOUSANDS = re.compile(r"(?<![\d.^_}])(\d{1,3})((?: +\d{3})+)(?![\d.])")
COMMA_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d.])")


class ReadError(ValueError):
    """An answer that cannot be read; ``position`` is where reading stopped (or None).

    ``refused`` marks input refused on purpose (too long, too deep, too large, control
    characters), which no other reader may try either.
    """

    def __init__(self, message: str, position: int | None = None, refused: bool = False):
        super().__init__(message)
        self.position = position
        self.refused = refused


@dataclass
class Reading:
    """What an answer says: its sides (``lhs = ... = rhs``) and what the reader noticed."""

    sides: list[sp.Basic]
    notes: list[str] = field(default_factory=list)

    @property
    def value(self) -> sp.Basic:
        """The right-most side: the answer's value."""
        return self.sides[-1]

    @property
    def lhs(self) -> sp.Basic | None:
        """The left-most side when the answer is an equation."""
        return self.sides[0] if len(self.sides) > 1 else None


def normalize(text: str) -> str:
    """Strip presentation (math delimiters, spacing, sizing, a trailing period) and map Unicode."""
    if len(text) > MAX_LENGTH:
        raise ReadError(f"the answer is {len(text)} characters long; at most {MAX_LENGTH} are read",
                        refused=True)
    for position, character in enumerate(text):
        if unicodedata.category(character) in ("Cc", "Cf") and character not in "\n\t\r":
            raise ReadError(f"invisible control character U+{ord(character):04X}", position, refused=True)
    text = "".join(UNICODE.get(c, c) for c in text).strip()
    for start, end in (("$$", "$$"), ("$", "$"), (r"\(", r"\)"), (r"\[", r"\]")):
        if text.startswith(start) and text.endswith(end) and len(text) >= len(start) + len(end):
            text = text[len(start):len(text) - len(end)].strip()
    text = re.sub(r"\\(?:left|right)\.", " ", text)  # \left. f \right|_{z=0}: the bar alone remains
    text = DROPPED.sub("", SPACES.sub(" ", CHINESE_OTHERWISE.sub(r"\\text{otherwise}", text)))
    text = unwrap(text, r"\boxed")
    text = re.sub(r"\\[dtc]frac(?![a-zA-Z])", r"\\frac", text).replace(r"\div", "/")
    text = ANNOTATION.sub(" ", OR_WORDS.sub(r" \\lor ", AND_WORDS.sub(r" \\land ", text)))
    text = re.sub(r"(?<=\d)\{,\}(?=\d)", ",", re.sub(r"(?<!\\)%", r"\\%", text))
    text = SPACED_THOUSANDS.sub(_joined, text)
    text = COMMA_THOUSANDS.sub(lambda match: match.group().replace(",", ""), text)
    text = re.sub(r"\\mathrm\{d\}", "d", text)
    text = re.sub(r"\^\{?\\prime\}?", "'", text)
    text = re.sub(r"(?<![A-Za-z])\{((?:\\nabla\s*\\?[A-Za-z]+|\\(?:tilde|hat)\{\\?[A-Za-z]+\}|\\?[A-Za-z]+)(?:\^\{\([^{}]*\)\})?)\}_",
                  r"\1_", text)  # {p}_{i}, {W^{(l)}}_{ij}, {\nabla W^{(l)}}_{ij}, {\tilde{\delta}^{(l+1)}}_{ij}, {\hat{x}}_{i}
    text = re.sub(r"(?<![A-Za-z])\{(\\operatorname\{[A-Za-z]+\}\([^(){}]*\))\}_", r"\1_", text)  # {Var(z)}_{l}
    text = re.sub(r"\\(operatorname|mathrm)\{var\}", r"\\\1{Var}", text)
    text = bars(text)
    return re.sub(r"[\s.,;]+$", "", text)


def bars(text: str) -> str:
    """A norm's bars written one way: \\lVert W \\rVert and \\Vert W \\Vert become \\|W\\|."""
    return re.sub(r"\\[lr]?Vert(?![a-zA-Z])", r"\\| ", text)


def _joined(match: re.Match) -> str:
    if re.search(r"\\[a-z]*frac\s*$|\\binom\s*$|\\sqrt\s*$", match.string[:match.start()]):
        return match.group()  # \frac 1 234 is two arguments
    return match.group().replace(" ", "")


def tokenize(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, position) tokens; any character outside LaTeX math is an error."""
    tokens, position = [], 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match:
            raise ReadError(f"unexpected character {text[position]!r}", position)
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group(), position))
        position = match.end()
    return tokens


def number(text: str, position: int) -> sp.Rational:
    if len(text) > MAX_DIGITS:
        raise ReadError("a number with too many digits", position, refused=True)
    value = Fraction(text)
    return sp.Rational(value.numerator, value.denominator)



def unwrap(text: str, command: str) -> str:
    """Remove ``\\command{...}`` wrappers, keeping what they wrap: \\boxed{r = 1} is r = 1."""
    while True:
        start = text.find(command + "{")
        if start < 0:
            return text
        level, end = 0, None
        for index in range(start + len(command), len(text)):
            level += {"{": 1, "}": -1}.get(text[index], 0)
            if level == 0:
                end = index
                break
        if end is None:
            raise ReadError("a '{' is never closed", start)
        text = text[:start] + text[start + len(command) + 1:end] + text[end + 1:]

