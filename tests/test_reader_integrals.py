"""The course reader's integrals, against mpmath quadrature of the same integrand written here."""

import mpmath as mp
import pytest
import sympy as sp

import derive
from derive.check.reader import ReadError, read
from derive.check.table import table_for


@pytest.fixture(scope="module")
def table():
    return table_for(derive.get("kaiming"))


@pytest.mark.parametrize("latex, low, integrand", [
    (r"\int_{-\infty}^{\infty} z^2 p(z) dz", -mp.inf, lambda z, p: z**2 * p(z)),
    (r"\int_{0}^{+\infty} z^2 p(z)\,\mathrm{d}z", 0, lambda z, p: z**2 * p(z)),
    (r"\frac{1}{2}\int_{-\infty}^{\infty} \max(0, z)^2 p(z) dz", -mp.inf, lambda z, p: max(0, z) ** 2 * p(z) / 2),
])
def test_integrals_read_as_the_integral_written(table, latex, low, integrand):
    value = read(latex, table).value
    scale = mp.mpf("1.3")
    density = sp.Lambda(sp.Symbol("t"), sp.exp(-sp.Symbol("t") ** 2 / (2 * sp.Rational(13, 10) ** 2))
                        / sp.sqrt(2 * sp.pi * sp.Rational(13, 10) ** 2))
    p = next(f for f in value.atoms(sp.core.function.AppliedUndef)).func
    concrete = value.replace(p, density).doit()
    expected = mp.quad(lambda z: integrand(z, lambda t: mp.npdf(t, 0, scale)), [low, 0, mp.inf])
    assert float(sp.N(concrete, 20)) == pytest.approx(float(expected), rel=1e-10)


@pytest.mark.parametrize("latex", [r"\int_{0}^{1} z^2", r"\int_{0} z dz", r"\int z^2 p(z"])
def test_malformed_integrals_are_read_errors(table, latex):
    with pytest.raises(ReadError):
        read(latex, table)
