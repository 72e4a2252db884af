"""The fast NaN-ignoring median used by the Hampel filter equals NumPy's nanmedian exactly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gaitcheck.clean import hampel, nanmedian_last


@pytest.mark.parametrize("width", [30, 31])
@pytest.mark.parametrize("nan_share", [0.0, 0.2, 0.7, 1.0])
def test_equals_numpy_nanmedian(nan_share: float, width: int) -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(500, 6, width))
    a[rng.random(a.shape) < nan_share] = np.nan
    a[3, 2, :] = np.nan  # an all-NaN window
    a[4, 1, :4] = [np.inf, -np.inf, 1.0, 2.0]  # infinities count as values, as in NumPy
    a[6, 0, :] = 5.0  # ties
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.nanmedian(a, axis=-1)
    np.testing.assert_array_equal(nanmedian_last(a), ref)  # bit for bit, NaN where NaN
    # Windows without NaN take the partial-sort path: same values.
    whole = a[np.isfinite(a).all(axis=-1)]
    np.testing.assert_array_equal(nanmedian_last(whole), np.median(whole, axis=-1))


def test_hampel_still_rejects_a_spike() -> None:
    t = np.linspace(0, 2, 121)
    xy = np.stack([100 + 20 * np.sin(2 * np.pi * t), 50 + t], axis=-1)[:, None, :]
    xy[60, 0, 0] += 80.0  # a jump of 80 px in one frame
    xy[30, 0, :] = np.nan
    out, n = hampel(xy, half_window=5, n_sigma=3.0)
    assert n == 1 and np.isnan(out[60, 0]).all()
    assert np.isnan(out[30, 0]).all()
    assert np.isfinite(np.delete(out[:, 0, 0], [30, 60])).all()


@pytest.mark.parametrize("floor", [0.0, 0.5, 5.0])
@pytest.mark.parametrize("nan_share", [0.0, 0.05])
def test_hampel_equals_the_direct_definition(floor: float, nan_share: float) -> None:
    """hampel's shortcuts (running median on gap-free columns, the spread computed only where
    the deviation can exceed the floor's threshold) flag exactly what the definition flags."""
    from numpy.lib.stride_tricks import sliding_window_view

    rng = np.random.default_rng(11)
    n, half, k_sigma = 400, 4, 3.0
    xy = np.cumsum(rng.normal(size=(n, 5, 2)), axis=0)
    spikes = rng.random(xy.shape) < 0.03
    xy[spikes] += rng.normal(scale=20.0, size=int(spikes.sum()))
    xy[rng.random(xy.shape[:2]) < nan_share] = np.nan
    got, n_removed = hampel(xy, half_window=half, n_sigma=k_sigma, floor=floor)

    flat = xy.reshape(n, -1)
    head = 2 * flat[:1] - flat[half:0:-1]
    tail = 2 * flat[-1:] - flat[-2 : -half - 2 : -1]
    win = sliding_window_view(np.concatenate([head, flat, tail]), 2 * half + 1, axis=0)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(win, axis=-1)
        mad = 1.4826 * np.nanmedian(np.abs(win - med[..., None]), axis=-1)
        bad = (np.abs(flat - med) > k_sigma * np.maximum(mad, floor)) & np.isfinite(flat)
    bad_pt = bad.reshape(n, 5, 2).any(axis=-1)
    want = xy.copy()
    want[bad_pt] = np.nan
    np.testing.assert_array_equal(got, want)
    assert n_removed == int(bad_pt.sum()) > 0
