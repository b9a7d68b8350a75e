r"""check-steps on the vector lines of the course's sheets (issue 17).

Seed 001 §3.1 writes the backward recursion of the Xavier sheet as a vector line with the sheet's
``\cdot`` for the entrywise product: ``\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)} \cdot f'(z^{(l-1)})``.
The xavier problem knows the units only; the line is compared entry by entry at concrete sizes with
a fully connected layer's backward recursion (mlp-backprop's families, its layers shifted by one). The
expected verdicts are judged by hand: the recursion is right, and each slip written in the same
notation (W not transposed, f' at the wrong layer, f' dropped, the error of the wrong layer, f' taken
twice, the transpose applied after the product) stays wrong.

Seed 001 §2.3 defines sigma beside a^(l) = sigma(z^(l)): sigma(z) = 1/(1 + e^-z) with z a bare
variable is the course's sigmoid (a definition), and sigma'(z) = sigma(z)(1 - sigma(z)) follows
after it; the gradient lines are compared entry by entry, their slips stay wrong.
"""

from __future__ import annotations

import pytest

from derive.check.steps import check_steps

#: seed 001 §3.1, the backward part up to the recursion (lines 1-2 as the sheet writes them)
XAVIER_BACKWARD_HEAD = (r"\delta^{(l)} = \frac{\partial \mathcal{L}}{\partial z^{(l)}}" "\n"
                        r"\frac{\partial \mathcal{L}}{\partial W_{ij}^{(l)}} = \delta_i^{(l)} \cdot a_j^{(l-1)}" "\n")

RECURSIONS = [
    # the sheet's line, its \cdot the entrywise product (a matrix product of two columns does not fit)
    (r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)} \cdot f'(z^{(l-1)})", "valid"),
    (r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)} \odot f'(z^{(l-1)})", "valid"),
    (r"\delta^{(l)} = (W^{(l+1)})^T \delta^{(l+1)} \cdot f'(z^{(l)})", "valid"),
    # slips in the same notation
    (r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)} \cdot f'(z^{(l)})", "wrong"),
    (r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)}", "wrong"),
    (r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l+1)} \cdot f'(z^{(l-1)})", "wrong"),
    (r"\delta^{(l-1)} = (W^{(l-1)})^T \delta^{(l)} \cdot f'(z^{(l-1)})", "wrong"),
    (r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)} \cdot f'(z^{(l-1)}) \cdot f'(z^{(l-1)})", "wrong"),
    (r"\delta^{(l-1)} = (W^{(l)})^T (\delta^{(l)} \cdot f'(z^{(l-1)}))", "wrong"),
]
#: W without its transpose: read as scalars (no vector mark), a step that does not follow
NOT_ACCEPTED = [
    (r"\delta^{(l-1)} = W^{(l)} \delta^{(l)} \cdot f'(z^{(l-1)})", ("wrong",)),
    (r"\delta^{(l-1)} = \delta^{(l)} \cdot (W^{(l)})^T f'(z^{(l-1)})", ("wrong", "unreadable")),
]


@pytest.mark.parametrize(("line", "verdict"), RECURSIONS)
def test_the_xavier_sheets_recursion_is_judged_entry_by_entry(line, verdict):
    report = check_steps(XAVIER_BACKWARD_HEAD + line, "xavier")
    judged = report["lines"][2]
    assert judged["verdict"] == verdict, judged
    if verdict == "valid":
        assert judged["rule"] == "entrywise" and "n = 2" in judged["feedback"]


@pytest.mark.parametrize(("line", "verdicts"), NOT_ACCEPTED)
def test_a_recursion_in_the_wrong_order_is_not_accepted(line, verdicts):
    assert check_steps(XAVIER_BACKWARD_HEAD + line, "xavier")["lines"][2]["verdict"] in verdicts


#: seed 001 §2.3 up to the sheet's sigma, as the sheet writes it (sigma(z) beside a^(l) = sigma(z^(l)))
MLP_HEAD = (r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}" "\n"
            r"a^{(l)} = \sigma(z^{(l)}), \quad \sigma(z) = \frac{1}{1 + e^{-z}}" "\n")
#: the sheet's sigma (the course's sigmoid, a definition), and definitions of something else
SIGMA_DEFINITIONS = [
    (r"\sigma(z) = \frac{1}{1 + e^{-z}}", "definition"),
    (r"\sigma(z) = \frac{1}{1 - e^{-z}}", "wrong"),
    (r"\sigma(z) = \frac{1}{1 + e^{z}}", "wrong"),
    (r"\sigma(z) = \frac{1}{1 + e^{-2z}}", "wrong"),
]
#: lines after the sheet's sigma (line 4 of MLP_HEAD + line): its derivative, the gradients
AFTER_SIGMA = [
    (r"\sigma'(z) = \sigma(z)(1 - \sigma(z))", ("equal", "valid")),
    (r"\sigma'(z) = \sigma(z)(1 + \sigma(z))", ("wrong",)),
    (r"\sigma'(z) = 1 - \sigma(z)", ("wrong",)),
    (r"\sigma'(z) = \sigma(z)^2", ("wrong",)),
    (r"\nabla_{W^{(l)}} = \delta^{(l)} (a^{(l-1)})^T", ("valid",)),
    (r"\nabla_{W^{(l)}} = \delta^{(l)} (a^{(l)})^T", ("wrong",)),
    (r"\nabla_{W^{(l)}} = \delta^{(l+1)} (a^{(l-1)})^T", ("wrong",)),
    (r"\nabla_{W^{(l)}} = a^{(l-1)} (\delta^{(l)})^T", ("wrong",)),
    (r"\nabla_{W^{(l)}} = 2 \delta^{(l)} (a^{(l-1)})^T", ("wrong",)),
    (r"\nabla_{b^{(l)}} = \delta^{(l)}", ("valid",)),
    (r"\nabla_{b^{(l)}} = \delta^{(l+1)}", ("wrong",)),
    (r"\delta^{(l)} = (W^{(l+1)} \delta^{(l+1)}) \odot \sigma'(z^{(l)})", ("wrong",)),
]


@pytest.mark.parametrize(("line", "verdict"), SIGMA_DEFINITIONS)
def test_the_sheets_sigma_is_the_course_sigmoid(line, verdict):
    report = check_steps(r"a^{(l)} = \sigma(z^{(l)}), \quad " + line, "mlp-backprop")
    assert report["lines"][1]["verdict"] == verdict, report["lines"][1]


@pytest.mark.parametrize(("line", "verdicts"), AFTER_SIGMA)
def test_the_lines_after_the_sheets_sigma(line, verdicts):
    judged = check_steps(MLP_HEAD + line, "mlp-backprop")["lines"][3]
    assert judged["verdict"] in verdicts, judged


def test_sigmas_derivative_without_its_definition_is_not_the_sigmoids():
    """sigma is any activation until a line says it is the sigmoid: sigma' = sigma(1 - sigma) does not follow."""
    assert check_steps(r"\sigma'(z) = \sigma(z)(1 - \sigma(z))", "mlp-backprop")["lines"][0]["verdict"] == "wrong"
