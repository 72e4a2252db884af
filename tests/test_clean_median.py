"""The fast NaN-ignoring median used by the Hampel filter equals NumPy's nanmedian exactly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gaitcheck.clean import hampel, nanmedian_last


@pytest.mark.parametrize("nan_share", [0.0, 0.2, 0.7, 1.0])
def test_equals_numpy_nanmedian(nan_share: float) -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(500, 6, 31))
    a[rng.random(a.shape) < nan_share] = np.nan
    a[3, 2, :] = np.nan  # an all-NaN window
    a[4, 1, :4] = [np.inf, -np.inf, 1.0, 2.0]  # infinities count as values, as in NumPy
    a[6, 0, :] = 5.0  # ties
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.nanmedian(a, axis=-1)
    np.testing.assert_array_equal(nanmedian_last(a), ref)  # bit for bit, NaN where NaN


def test_hampel_still_rejects_a_spike() -> None:
    t = np.linspace(0, 2, 121)
    xy = np.stack([100 + 20 * np.sin(2 * np.pi * t), 50 + t], axis=-1)[:, None, :]
    xy[60, 0, 0] += 80.0  # a jump of 80 px in one frame
    xy[30, 0, :] = np.nan
    out, n = hampel(xy, half_window=5, n_sigma=3.0)
    assert n == 1 and np.isnan(out[60, 0]).all()
    assert np.isnan(out[30, 0]).all()
    assert np.isfinite(np.delete(out[:, 0, 0], [30, 60])).all()
