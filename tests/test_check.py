"""The checker: verdicts judged by hand, slips named, certificates that can be re-checked
independently, and bad input that is never accepted."""

import json
import math
from pathlib import Path

import pytest

from derive.check.decide import check

CORRECT = [
    ("sigmoid", "d1", r"\sigma(x)(1-\sigma(x))"),
    ("sigmoid", "d1", r"\sigma(1-\sigma)"),
    ("sigmoid", "d1", r"\theta(x)\,(1-\theta(x))"),
    ("sigmoid", "d1", r"\frac{e^{-x}}{(1+e^{-x})^2}"),
    ("sigmoid", "d1", r"\sigma'(x) = \sigma(x)\left(1-\sigma(x)\right)."),
    ("sigmoid", "d1", r"\frac{d\sigma}{dx} = \boxed{\sigma - \sigma^2}"),
    ("sigmoid", "d2", r"\sigma''(x)=\sigma(1-\sigma)(1-2\sigma)"),
    ("sigmoid", "d2", r"\sigma'(x)(1-2\sigma(x))"),
    ("tanh", "d1", r"\operatorname{sech}^2 x"),
    ("tanh", "d1", r"\frac{1}{\cosh^2(x)}"),
    ("tanh", "d2", r"-2\tanh(x)(1-\tanh^2 x)"),
    ("relu", "d1", r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}"),
    ("leaky-relu", "d1", r"f'(x) = \begin{cases} 1, & \text{if } x > 0 \\ \alpha, & \text{否则} \end{cases}"),
    ("gelu", "d1", r"\Phi(x) + \frac{x e^{-x^2/2}}{\sqrt{2\pi}}"),
    ("softmax", "jacobian", r"\frac{\partial p_i}{\partial x_k} = p_i(\mathbb{1}[i=k]-p_k)"),
    ("softmax", "jacobian", r"\mathrm{softmax}(x)_i(\delta_{ik} - \mathrm{softmax}(x)_k)"),
    ("log-softmax", "grad", r"\delta_{ki} - \frac{e^{x_k}}{\sum_j e^{x_j}}"),
    ("log-softmax", "grad", r"\delta_{ik} - \frac{e^{x_k}}{\sum_{j=1}^{C} e^{x_j}}"),
    ("softmax-ce", "dl_dz", r"p_k - y_k"),
    ("bce", "dl_dyhat", r"\frac{\hat y - y}{\hat y(1-\hat y)}"),
    ("bce-sigmoid", "dl_dz", r"\sigma(z) - y"),
    ("bce-sigmoid", "dl_dw1", r"\frac{\partial L}{\partial w_1} = (\widehat{y} - y) \cdot x_1"),
    ("xavier", "var", r"\mathrm{Var}(W) = \frac{2}{n_{\text{in}} + n_{\text{out}}}"),
    ("xavier", "var", r"\frac{2}{M_{l-1}+M_l}"),
    ("xavier", "var", r"\frac{2}{\text{fan\_in}+\text{fan\_out}}"),
    ("xavier", "var", r"\sigma^2 = \frac{2}{fan_{in}+fan_{out}}"),
    ("xavier", "uniform_bound", r"\boxed{r=\sqrt{\frac{6}{n_{in}+n_{out}}}}"),
    ("xavier", "normal_std", r"\sqrt{2}/\sqrt{n_{in}+n_{out}}"),
    ("kaiming", "var", r"\frac{2}{d_{in}}"),
    ("kaiming", "second_moment", r"\frac12 \operatorname{Var}(z)"),
    ("prelu-init", "var", r"\operatorname{Var}(W_{ij}^{(l)}) = \frac{2}{(1+\alpha^2)\,n_{in}}"),
    ("prelu-init", "gain", r"\sqrt{\frac{2}{1+\alpha^2}}"),
    ("lecun", "std", r"n_{in}^{-1/2}"),
    ("mse", "dl_dyhat", r"0.5 \cdot 2 (\hat y - y)"),
]


@pytest.mark.parametrize("problem, target, answer", CORRECT)
def test_correct_answers_in_the_course_notation_are_accepted(problem, target, answer):
    result = check(answer, problem, target)
    assert result["verdict"] == "correct", result["feedback"]
    assert result["certificate"]["method"] in ("symbolic", "numeric")


WRONG = [
    ("sigmoid", "d1", r"\sigma(1+\sigma)", "one-plus-sigma"),
    ("tanh", "d2", r"-2\tanh(x)", "missing-inner-derivative"),
    ("xavier", "var", r"\frac{1}{n_{in}}", "xavier-n-in-alone"),
    ("xavier", "var", r"\frac{2}{n_{in} n_{out}}", "xavier-product"),
    ("kaiming", "var", r"\frac{1}{n_{in}}", "kaiming-without-2"),
    ("xavier", "var", r"\sqrt{\frac{2}{n_{in}+n_{out}}}", "std-for-variance"),
    ("kaiming", "std", r"\frac{2}{n_{in}}", "variance-for-std"),
    ("xavier", "uniform_bound", r"\sqrt{\frac{2}{n_{in}+n_{out}}}", "gaussian-for-uniform"),
    ("prelu-init", "var", r"\frac{2}{n_{in}}", "prelu-without-alpha"),
    ("softmax", "jacobian", r"-p_i p_k", "softmax-without-delta"),
    ("bce", "dl_dyhat", r"\frac{y-\hat y}{\hat y (1-\hat y)}", "loss-wrong-sign"),
    ("sigmoid", "d1", r"-\sigma(1-\sigma)", "sign-flip"),
    ("relu", "d1", r"\begin{cases} 2 & x > 0 \\ 0 & x \le 0 \end{cases}", "factor-2"),
]


@pytest.mark.parametrize("problem, target, answer, slip", WRONG)
def test_slips_are_rejected_and_named_in_both_languages(problem, target, answer, slip):
    from derive.render import wording

    for lang in ("en", "zh"):
        result = check(answer, problem, target, lang=lang)
        assert result["verdict"] == "incorrect"
        assert result["feedback"].startswith(wording(lang)["slips"][slip]), result["feedback"]


def test_counterexample_can_be_checked_independently():
    result = check(r"\frac{1}{n_{in}}", "xavier", "var")
    certificate = result["certificate"]
    n_in, n_out = (int(certificate["point"][k]) for k in ("n_in", "n_out"))
    assert math.isclose(float(certificate["expected"]), 2 / (n_in + n_out), rel_tol=1e-9)
    assert math.isclose(float(certificate["answer"]), 1 / n_in, rel_tol=1e-9)


@pytest.mark.parametrize("problem, target, answer, reason", [
    ("sigmoid", "d1", r"\sigma'(x)", "restates"),
    ("softmax", "jacobian", r"\frac{\partial p_i}{\partial x_k}", "restates"),
    ("sigmoid", "d1", r"\frac{d}{dx}\frac{1}{1+e^{-x}}", "derivative to be taken"),
    ("sigmoid", "d2", r"\sigma'(x) = \sigma(1-\sigma)(1-2\sigma)", "does not name the quantity asked"),
    ("bce-sigmoid", "dl_dw1", r"\frac{\partial L}{\partial w_2} = (\hat y - y) x_1", "does not name"),
    ("xavier", "var", r"\sigma = \frac{2}{n_{in}+n_{out}}", "solved for it"),
])
def test_answers_that_are_not_answers_are_incorrect(problem, target, answer, reason):
    result = check(answer, problem, target)
    assert result["verdict"] == "incorrect" and reason in result["feedback"]


def test_a_left_side_that_is_a_function_of_the_quantity_is_solved_for_it():
    result = check(r"\sigma^2 = \frac{2}{n_{in}+n_{out}}", "xavier", "normal_std")
    assert result["verdict"] == "correct" and "solved for it" in result["feedback"]


def test_kink_convention_is_noted_not_failed():
    result = check(r"\begin{cases} 1 & x \ge 0 \\ 0 & x < 0 \end{cases}", "relu", "d1")
    assert result["verdict"] == "correct" and "convention at the kink" in result["feedback"]


def test_ambiguous_name_is_said():
    result = check(r"\frac{2}{(1+a^2) n_{in}}", "prelu-init", "var")
    assert result["verdict"] == "correct" and "ambiguous" in result["feedback"]


def test_natural_log_by_default_and_base_10_as_an_option():
    answer = r"\frac{1}{\hat y} \cdot \log(e) \cdot (\hat y - y) \frac{1}{1-\hat y}"
    assert check(answer, "bce", "dl_dyhat")["verdict"] == "correct"
    assert check(answer, "bce", "dl_dyhat", log_base_e=False)["verdict"] == "incorrect"


def test_case_is_kept():
    assert check("N^2", expected="n^2")["verdict"] == "incorrect"
    assert check("n n", expected="n^2")["verdict"] == "correct"


def test_free_comparison_with_assumed_domains():
    assert check(r"\sqrt{n^2}", expected="n", assume=["n:positive"])["verdict"] == "correct"
    assert check(r"\sqrt{n^2}", expected="n")["verdict"] == "incorrect"


def test_parsed_and_expected_are_latex_for_the_student():
    result = check(r"\sigma(1-\sigma)", "sigmoid", "d1")
    assert result["parsed"] == result["expected"] == r"\left(1 - \sigma(x)\right) \sigma(x)"
    assert "product" in result["feedback"]


def test_unparsable_says_what_and_where():
    result = check(r"\sigma(x) \foo{1}", "sigmoid", "d1")
    assert result["verdict"] == "unparsable" and "\\foo" in result["feedback"] and "character 11" in result["feedback"]


CORPUS = [json.loads(line) for line in (Path(__file__).parents[1] / "bench" / "corpus.jsonl").open(encoding="utf-8")]


def test_corpus_has_no_false_accept_and_accepts_the_correct_answers():
    # The whole labeled corpus, in this process (the worker pool is tested on its own).
    verdicts = [(row["label"], check(row["answer"], row["problem"], row["target"])["verdict"])
                for row in CORPUS if row["label"] != "bad"]
    assert not [v for v in verdicts if v == ("incorrect", "correct")]
    accepted = sum(v == ("correct", "correct") for v in verdicts) / sum(v[0] == "correct" for v in verdicts)
    assert accepted >= 0.97


@pytest.mark.parametrize("answer", [r"\cfrac{2}{n_{in}+n_{out}}", r"2 \div (n_{in}+n_{out})", r"{2 \over n_{in}+n_{out}}",
                                    r"\frac{2}{n_{in}+n_{out}} \text{ (the variance)}"])
def test_more_presentation_is_read_by_the_course_reader(answer):
    result = check(answer, "xavier", "var")
    assert result["verdict"] == "correct" and "general LaTeX reader" not in result["feedback"]


def test_the_general_reader_is_a_guarded_last_resort():
    used = check(r"\lvert -6 \rvert \frac{1}{3 (n_{in}+n_{out})}", "xavier", "var")
    assert used["verdict"] == "correct" and "general LaTeX reader" in used["feedback"]
    # Refused input is never handed on, and nor is a construct the general reader misreads.
    assert check("x" * 3000, "xavier", "var")["verdict"] == "unparsable"
    assert check(r"\lvert -6 \rvert \log(n_{in})", "xavier", "var")["verdict"] == "unparsable"
