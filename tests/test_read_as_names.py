""""read as" prints the checker's names for a student's own layered names as the course writes
them (seed 002 Q3: S^(2), hat(y), d(L)/d(w^(3))), and anything else in a name as escaped text."""

import pytest
import sympy as sp

from derive.printing import NotationLatexPrinter


@pytest.mark.parametrize("name, printed", [
    ("S^(2)", "S^{(2)}"),
    ("z^(l-1)", "z^{(l-1)}"),
    ("hat(y)", r"\hat{y}"),
    ("d(L)/d(w^(3))", r"\frac{\partial L}{\partial w^{(3)}}"),
    ("d(hat(y))/d(S^(3))", r"\frac{\partial \hat{y}}{\partial S^{(3)}}"),
    # hostile: nothing but letters, digits and signs passes through as TeX
    (r"S^(\input{/etc/passwd})", r"\text{S\^{}(\textbackslash{}input\{/etc/passwd\})}"),
    (r"d(\input{x})/d(w)", r"\text{d(\textbackslash{}input\{x\})/d(w)}"),
    ("hat(yy)", "hat(yy)"),
])
def test_a_name_of_ones_own_is_printed_as_the_course_writes_it(name, printed):
    assert NotationLatexPrinter([]).doprint(sp.Symbol(name)) == printed
