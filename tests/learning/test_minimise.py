"""Our minimisers against scipy's, on the losses learning really fits and on textbook functions.

Each must reach a minimum as low as scipy's, within a small tolerance, near the same point.
"""

import math

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar, rosen, rosen_der
from support.learning import KEY, library

from tagger.learning import classifiers, learned
from tagger.learning.minimise import golden_section, lbfgs, nelder_mead

# Overlapping genres, so that no fit is trivial: a small library (more features than
# files) and a larger one (more files than the 128 principal directions).
LIBRARIES = ({"genres": {"A": 15, "B": 15, "C": 15, "D": 6}, "seed": 1, "spread": 6.0},
             {"genres": {f"G{i}": 40 for i in range(6)}, "seed": 3, "spread": 10.0})


@pytest.fixture(scope="module")
def fits():
    """Every minimiser call learning makes while it learns LIBRARIES and calibrates
    thin genres: minimiser name -> [(arguments, our result)]."""
    calls = {"lbfgs": [], "golden_section": [], "nelder_mead": []}

    def recorded(minimiser):
        def call(*args):
            result = minimiser(*args)
            calls[minimiser.__name__].append((args, result))
            return result
        return call

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(classifiers, "lbfgs", recorded(lbfgs))
        patch.setattr(classifiers, "golden_section", recorded(golden_section))
        patch.setattr(learned, "nelder_mead", recorded(nelder_mead))
        for spec in LIBRARIES:
            learned.train(library(**spec), KEY)
        learned.fit_calibrator(*thin_genre_scores(), np.array([2, 50]))
    assert all(calls.values())
    return calls


def thin_genre_scores():
    """Scores at which a genre on 2 files is right half the time, one on 50 files 88%."""
    rng = np.random.default_rng(3)
    best = rng.integers(0, 2, 4000)
    scores = np.zeros((4000, 2))
    scores[np.arange(4000), best] = 2.0
    right = rng.random(4000) < np.where(best == 0, 0.5, 0.88)
    y = np.zeros((4000, 2))
    y[np.arange(4000), np.where(right, best, 1 - best)] = 1.0
    return scores, y


def scipy_lbfgs(loss, x0, steps, ftol=1e-8, gtol=1e-5):
    return minimize(loss, x0, jac=True, method="L-BFGS-B", options={"maxiter": steps, "ftol": ftol, "gtol": gtol})


def test_lbfgs_fits_the_logistic_regressions_as_low_as_scipy(fits):
    for (loss, x0, steps), ours in fits["lbfgs"]:
        theirs = scipy_lbfgs(loss, x0, steps)
        assert ours.value <= theirs.fun + 1e-7
        assert ours.value == loss(ours.x)[0] and ours.steps <= steps
        assert np.abs(ours.x - theirs.x).max() < 1e-2 * max(1.0, np.abs(theirs.x).max())


def test_lbfgs_converged_on_a_logistic_regression_is_where_scipy_converges(fits):
    # As learning calls them both stop at a relative decrease of 1e-8, where the flat
    # valley floor still leaves the points 1e-3 apart: driven on, they meet.
    for (loss, x0, _), _ in fits["lbfgs"][::7]:
        ours = lbfgs(loss, x0, 2000, relative_tolerance=1e-15, gradient_tolerance=1e-9)
        theirs = scipy_lbfgs(loss, x0, 2000, ftol=1e-15, gtol=1e-9)
        assert ours.value <= theirs.fun + 1e-12
        assert np.allclose(ours.x, theirs.x, atol=2e-5)


def test_golden_section_finds_the_temperatures_scipy_finds(fits):
    for (nll, low, high), (x, value) in fits["golden_section"]:
        theirs = minimize_scalar(nll, bounds=(low, high), method="bounded")
        assert value <= theirs.fun + 1e-12 and value == nll(x)
        assert x == pytest.approx(theirs.x, abs=2e-5)


def test_nelder_mead_finds_the_calibrations_scipy_finds(fits):
    assert any(abs(result.x[2]) > 1 for _, result in fits["nelder_mead"])  # a thin genre's discount among them
    for (nll, x0), ours in fits["nelder_mead"]:
        theirs = minimize(nll, x0, method="Nelder-Mead")
        assert ours.value <= theirs.fun + 1e-9 and ours.value == nll(ours.x)
        assert np.allclose(ours.x, theirs.x, atol=1e-3)


@pytest.mark.parametrize("x0", [np.array([-1.2, 1.0]), np.full(10, -1.0), np.zeros(30)])
def test_lbfgs_finds_the_rosenbrock_valleys_floor(x0):
    def loss(x):
        return rosen(x), rosen_der(x)

    ours, theirs = lbfgs(loss, x0, 1000, relative_tolerance=1e-15), scipy_lbfgs(loss, x0, 1000, ftol=1e-15)
    assert ours.value <= theirs.fun + 1e-10
    assert np.allclose(ours.x, 1.0, atol=1e-4) and ours.steps < 1000


def ill_conditioned_quadratic(dimensions=50, condition=1e4):
    """0.5 x'Ax - b'x with A's eigenvalues spread over ``condition``, and its minimiser."""
    rng = np.random.default_rng(7)
    rotation, _ = np.linalg.qr(rng.standard_normal((dimensions, dimensions)))
    a = rotation @ np.diag(np.logspace(0, math.log10(condition), dimensions)) @ rotation.T
    b = rng.standard_normal(dimensions)
    return (lambda x: (0.5 * x @ a @ x - b @ x, a @ x - b)), np.linalg.solve(a, b)


def test_lbfgs_minimises_an_ill_conditioned_quadratic():
    loss, solution = ill_conditioned_quadratic()
    x0 = np.zeros(len(solution))
    ours = lbfgs(loss, x0, 5000, relative_tolerance=1e-16, gradient_tolerance=1e-8)
    theirs = scipy_lbfgs(loss, x0, 5000, ftol=1e-16, gtol=1e-8)
    assert ours.value <= theirs.fun + 1e-10
    assert ours.value == pytest.approx(loss(solution)[0], abs=1e-10)
    assert np.allclose(ours.x, solution, atol=1e-5) and ours.steps < 5000


def test_every_lbfgs_step_lowers_the_loss():
    def loss(x):
        return rosen(x), rosen_der(x)

    x0 = np.array([-1.2, 1.0])
    values = [lbfgs(loss, x0, steps, relative_tolerance=0.0).value for steps in range(30)]
    assert values[0] == rosen(x0)
    assert all(later < earlier for earlier, later in zip(values, values[1:]))


def test_lbfgs_stops_after_its_steps_and_at_a_zero_gradient():
    def loss(x):
        return rosen(x), rosen_der(x)

    assert lbfgs(loss, np.array([-1.2, 1.0]), 5).steps == 5
    at_minimum = lbfgs(loss, np.ones(3), 100)
    assert at_minimum.steps == 0 and at_minimum.value == 0.0


@pytest.mark.parametrize(("fun", "low", "high", "where"), [
    (lambda x: (x - 5.0) ** 2, -6.0, 4.0, 4.0),  # the minimum lies past the upper bound
    (lambda x: math.exp(-x) + 0.01 * x, -6.0, 4.0, 4.0),  # monotone, shallow at the bound
    (lambda x: (x + 9.0) ** 2, -6.0, 4.0, -6.0),
    (lambda x: math.exp(x) - 2.0 * x, -6.0, 4.0, math.log(2.0)),  # interior, not symmetric
    (lambda x: abs(x - 0.3) + 0.1 * x * x, -1.0, 1.0, 0.3),  # a kink at the minimum
])
def test_golden_section_finds_the_minimum_inside_or_at_a_bound(fun, low, high, where):
    x, value = golden_section(fun, low, high)
    theirs = minimize_scalar(fun, bounds=(low, high), method="bounded")
    assert value <= theirs.fun + 1e-12 and value == fun(x)
    assert x == pytest.approx(where, abs=1e-5) and low <= x <= high


@pytest.mark.parametrize(("fun", "x0", "where"), [
    (rosen, np.array([-1.2, 1.0]), np.ones(2)),
    (lambda x: (x[0] - 1) ** 2 + 100 * (x[1] + 2) ** 2 + 1e4 * (x[2] - 0.5) ** 2, np.zeros(3),
     np.array([1.0, -2.0, 0.5])),  # ill-conditioned, from a start of zeros as the calibrator's offset
    (lambda x: abs(x[0] - 2) + abs(x[1]) + 0.01 * (x[0] ** 2 + x[1] ** 2), np.array([1.0, 1.0]), np.array([2.0, 0.0])),
    # A sharp ridge along x = y, where neither reflection nor contraction gains: only a shrink does.
    (lambda x: 100 * abs(x[0] - x[1]) + (x[0] + x[1] - 1) ** 2, np.array([3.0, -2.0]), np.array([0.5, 0.5])),
])
def test_nelder_mead_finds_textbook_minima_as_low_as_scipy(fun, x0, where):
    ours, theirs = nelder_mead(fun, x0, x_tolerance=1e-8, value_tolerance=1e-10, max_steps=5000), minimize(
        fun, x0, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000})
    assert ours.value <= theirs.fun + 1e-9
    assert np.allclose(ours.x, where, atol=1e-4) and ours.steps < 5000
