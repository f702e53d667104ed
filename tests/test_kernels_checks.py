"""repartition.kernels.checks: the validation scans against plain NumPy.

The first bad value across chunks, in memory order, for energies and coefficients; per-row
sums and NaN counts in both layouts; the member-major energy scan's per-step sums, bit for
bit those of :func:`repartition.kernels.members.member_sums`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from repartition.kernels import (
    checks,
    members,
)

CHUNK = 1 << 16


BIG = 2 * CHUNK + 4_321  # three chunks, the last one partial


BAD_ENERGIES = [np.nan, np.inf, -np.inf, -1.0, -5e-324]


def energy_oracle(flat: np.ndarray) -> int:
    bad = np.flatnonzero(~(flat >= 0.0) | (flat == np.inf))
    return int(bad[0]) if len(bad) else -1


def test_first_invalid_energy_accepts_valid_energies() -> None:
    values = np.zeros((BIG // 7, 7))
    values[::3] = -0.0  # signed zero is an energy of 0
    values[1::5] = np.finfo(float).max
    values[2::7] = 5e-324
    assert checks.first_invalid_energy(values)[0] == -1


@pytest.mark.parametrize(
    "positions",
    [
        [CHUNK - 1, CHUNK, 2 * CHUNK],  # last of chunk 0 beats the first of chunk 1
        [2 * CHUNK + 4_000, CHUNK + 17],  # chunk 1 before chunk 2 whatever the order found
        [BIG - 1],  # the very last value, alone in the partial chunk
        [0, BIG - 1],
        [2 * CHUNK - 1, 2 * CHUNK, CHUNK + CHUNK // 2],
    ],
)
@pytest.mark.parametrize("bad", BAD_ENERGIES, ids=["nan", "inf", "-inf", "negative", "-tiny"])
def test_first_invalid_energy_finds_the_first_across_chunks(positions, bad) -> None:
    flat = np.ones(BIG)
    for n, position in enumerate(sorted(positions, reverse=True)):
        flat[position] = BAD_ENERGIES[n % len(BAD_ENERGIES)]
    flat[min(positions)] = bad
    expected = energy_oracle(flat)
    assert expected == min(positions)
    assert checks.first_invalid_energy(flat)[0] == expected
    # The same values as a 2-D table (C order): the position is flat.
    table = flat[: BIG - BIG % 9].reshape(-1, 9)
    assert checks.first_invalid_energy(table)[0] == energy_oracle(table.reshape(-1))


@given(
    positions=st.lists(st.integers(0, BIG - 1), min_size=1, max_size=6),
    bad=st.lists(st.sampled_from(BAD_ENERGIES), min_size=6, max_size=6),
)
def test_first_invalid_energy_agrees_with_numpy(positions: list[int], bad: list[float]) -> None:
    flat = np.full(BIG, 0.5)
    for position, value in zip(positions, bad, strict=False):
        flat[position] = value
    assert checks.first_invalid_energy(flat)[0] == energy_oracle(flat)


def coefficient_oracle(flat: np.ndarray) -> int:
    bad = np.flatnonzero((flat < 0.0) | (flat > 1.0))
    return int(bad[0]) if len(bad) else -1


BAD_COEFFICIENTS = [-1e-12, 1.0000001, np.inf, -np.inf, 2.0]


@given(
    positions=st.lists(st.integers(0, BIG - 1), max_size=6),
    bad=st.lists(st.sampled_from(BAD_COEFFICIENTS), min_size=6, max_size=6),
    nan_positions=st.lists(st.integers(0, BIG - 1), max_size=4),
)
def test_first_invalid_coefficient_agrees_with_numpy(positions, bad, nan_positions) -> None:
    flat = np.full(BIG, 1.0)
    flat[::2] = 0.0
    flat[nan_positions] = np.nan  # NaN is the callers' business: never reported here
    for position, value in zip(positions, bad, strict=False):
        flat[position] = value
    expected = coefficient_oracle(flat)
    assert checks.first_invalid_coefficient(flat) == expected
    table = flat[: BIG - BIG % 8].reshape(-1, 8)
    assert checks.first_invalid_coefficient(table) == coefficient_oracle(table.reshape(-1))


def test_first_invalid_coefficient_first_across_chunks() -> None:
    flat = np.full(BIG, 0.25)
    flat[2 * CHUNK + 1] = -0.5
    flat[CHUNK + 3] = 1.5
    flat[CHUNK - 1] = np.nan  # skipped
    assert checks.first_invalid_coefficient(flat) == CHUNK + 3
    flat[CHUNK - 2] = np.inf
    assert checks.first_invalid_coefficient(flat) == CHUNK - 2
    assert checks.first_invalid_coefficient(np.array([0.0, 1.0, np.nan])) == -1


@given(
    values=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=9),
        elements=st.one_of(st.just(np.nan), st.floats(0.0, 1.0)),
    )
)
def test_row_sums_and_nans_agree_with_numpy(values: np.ndarray) -> None:
    values = np.ascontiguousarray(values)
    sums, nans, outside = checks.row_sums_and_nans(values)
    np.testing.assert_array_equal(nans, np.isnan(values).sum(axis=1))
    np.testing.assert_allclose(sums, np.nansum(values, axis=1), rtol=1e-12, atol=1e-15)
    assert outside == 0
    # The member-major twin, on the transpose, gives the same.
    column_sums, column_nans, column_outside = checks.column_sums_and_nans(
        np.ascontiguousarray(values.T)
    )
    np.testing.assert_array_equal(column_nans, nans)
    np.testing.assert_allclose(column_sums, sums, rtol=1e-12, atol=1e-15)
    assert column_outside == 0


def test_row_sums_and_nans_fixed() -> None:
    values = np.array([[0.25, np.nan, 0.5], [np.nan, np.nan, np.nan], [0.0, 0.0, 1.0]])
    sums, nans, outside = checks.row_sums_and_nans(values)
    np.testing.assert_array_equal(sums, [0.75, 0.0, 1.0])
    np.testing.assert_array_equal(nans, [1, 3, 0])
    assert outside == 0
    values[0, 0], values[2, 1] = 1.5, -np.inf
    assert checks.row_sums_and_nans(values)[2] == 2
    assert checks.column_sums_and_nans(np.ascontiguousarray(values.T))[2] == 2


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -1.0, None])
def test_member_major_scan_finds_bad_values_and_sums_steps(bad) -> None:
    """The member-major input scan reports a bad value (memory order, as the row scan does
    on the transpose) and returns the per-step totals the kernels would otherwise compute."""
    rng = np.random.default_rng(17)
    values = rng.random((23, 70))  # (members, steps), C-contiguous
    if bad is not None:
        values[5, 40] = bad
        values[9, 3] = bad
    position, totals = checks.first_invalid_energy_by_member(values, members.CHUNKS)
    assert position == checks.first_invalid_energy(values)[0]
    if bad is None:
        assert position == -1
        expected = members.member_sums(values, members.CHUNKS)
        np.testing.assert_array_equal(totals, expected)  # the same sums, to the bit
    else:
        assert position == 5 * 70 + 40


def test_the_energy_scan_flags_values_above_the_limit_in_the_same_read() -> None:
    values = np.array([[1.0, 2.0], [3.0, 1e308]])
    assert checks.first_invalid_energy(values, 1e307) == (-1, True)
    assert checks.first_invalid_energy(values, np.finfo(np.float64).max) == (-1, False)
    assert checks.first_invalid_energy(np.array([[1.0, np.nan]]), 1.0) == (1, False)
