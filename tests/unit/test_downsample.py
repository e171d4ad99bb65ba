"""Peak-preserving downsampling: spikes and dips survive, time order is kept, sizes are bounded."""

from __future__ import annotations

import itertools

import numpy as np

from app.services.downsample import downsample, peak_indices

HOUR = 3600


def hourly_years(years: int = 5, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = years * 365 * 24
    x = np.arange(n, dtype=np.int64) * HOUR + 1_600_000_000
    y = 100_000 + np.cumsum(rng.normal(0, 150, n))
    return x, y


def test_one_hour_spike_and_dip_in_five_years_survive() -> None:
    x, y = hourly_years()
    y[12_345] = y.max() + 50_000  # a one-hour spike
    y[30_001] = y.min() - 40_000  # a one-hour crash
    dx, dy = downsample(x, y, float(x[0]), float(x[-1]), buckets=800)
    assert len(dx) <= 2 * 800 + 2
    assert dy.max() == y.max() and dy.min() == y.min()
    assert x[12_345] in dx and x[30_001] in dx
    assert np.all(np.diff(dx) > 0)  # time order, no duplicates


def test_every_bucket_keeps_its_extremes() -> None:
    x, y = hourly_years(1)
    lo, hi, buckets = float(x[1000]), float(x[5000]), 100
    idx = peak_indices(x, y, lo, hi, buckets)
    edges = np.linspace(lo, hi, buckets + 1)
    edges[-1] = np.nextafter(hi, np.inf)  # the last bucket includes hi
    kept = set(idx.tolist())
    for a, b in itertools.pairwise(edges):
        inside = np.flatnonzero((x >= a) & (x < b))
        if len(inside):
            assert inside[np.argmax(y[inside])] in kept
            assert inside[np.argmin(y[inside])] in kept


def test_small_ranges_return_every_point_plus_one_beyond_each_edge() -> None:
    x, y = hourly_years(1)
    idx = peak_indices(x, y, float(x[100]), float(x[150]), buckets=1000)
    assert idx.tolist() == list(range(99, 152))


def test_irregular_spacing_after_retention() -> None:
    """Daily points, then hourly, then every 5 minutes: buckets are slices of time."""
    daily = np.arange(0, 300 * 86400, 86400)
    hourly = np.arange(daily[-1] + HOUR, daily[-1] + 90 * 86400, HOUR)
    recent = np.arange(hourly[-1] + 300, hourly[-1] + 7 * 86400, 300)
    x = np.concatenate([daily, hourly, recent]).astype(np.int64)
    y = np.sin(x / 1e5) * 1000 + 5000
    y[len(daily) + 500] = 99_999.0
    idx = peak_indices(x, y, float(x[0]), float(x[-1]), buckets=200)
    assert len(idx) <= 2 * 200 + 2
    assert len(daily) + 500 in idx.tolist()
    # buckets are ~2 days wide: at most two daily points each, so every daily point is kept
    assert set(range(len(daily))) <= set(idx.tolist())


def test_empty_and_degenerate_input() -> None:
    empty = np.array([], dtype=np.int64)
    assert peak_indices(empty, np.array([], dtype=np.float64), 0, 10, 5).size == 0
    x = np.array([5], dtype=np.int64)
    assert peak_indices(x, np.array([1.0]), 0, 10, 5).tolist() == [0]
    assert peak_indices(x, np.array([1.0]), 10, 0, 5).size == 0
