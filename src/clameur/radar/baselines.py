"""Baseline detectors with the `SeriesDetector` interface, to measure it against.

- `WindowedGaussianDetector`: NAB's windowed Gaussian (nab/detectors/gaussian): the score of a
  value is ``1 - Q(|value - mean| / std)`` over a sliding window of the previous 6,400 values,
  the window moving by steps of 100. Mean and standard deviation come from running sums
  (exact for counts), so a step costs O(1) apart from the window itself.
- `SeasonalEwmaDetector`: per hour-of-week slot, an exponentially weighted mean and variance of
  log(1 + count); the score of an increase is ``1 - 2 Q(z)`` (a dip scores 0).

Both take timestamps in order and treat missing buckets as nothing happened (no fill).
"""

from __future__ import annotations

import math
import struct
from array import array
from datetime import datetime

from clameur.radar.detector import Reading

_SQRT2 = math.sqrt(2.0)


def tail_probability(z: float) -> float:
    """Q(z): the probability that a standard normal variable exceeds z."""
    return 0.5 * math.erfc(z / _SQRT2)


class WindowedGaussianDetector:
    """NAB's windowed Gaussian detector, streaming."""

    _HEADER = struct.Struct("<4sIIdd")  # magic, window length, step buffer length, sums

    def __init__(self, window: int = 6400, step: int = 100, threshold: float = 0.99) -> None:
        self.window = window
        self.step = step
        self.threshold = threshold
        self._data = array("f")  # the window, oldest first
        self._pending = array("f")  # values waiting for the next step
        self._sum = 0.0
        self._squares = 0.0
        self._mean = 0.0
        self._std = 1.0

    def update(self, timestamp: datetime, value: float) -> Reading:
        """Score a value against the window, then let it in (NAB's handleRecord)."""
        score = 0.0
        if len(self._data):
            z = abs(value - self._mean) / self._std
            score = 1.0 - tail_probability(z)
        reading = Reading(
            score=score,
            expected=self._mean,
            low=self._mean - 3 * self._std,
            high=self._mean + 3 * self._std,
            alert=score >= self.threshold,
            surprise=(value - self._mean) / self._std,
        )
        if len(self._data) < self.window:
            self._push(value)
            self._refresh()
        else:
            self._pending.append(value)
            if len(self._pending) == self.step:
                for old in self._data[: self.step]:
                    self._sum -= old
                    self._squares -= old * old
                del self._data[: self.step]
                for new in self._pending:
                    self._push(new)
                self._pending = array("f")
                self._refresh()
        return reading

    def _push(self, value: float) -> None:
        self._data.append(value)
        stored = self._data[-1]  # the float32 value, so sums match what a reload sees
        self._sum += stored
        self._squares += stored * stored

    def _refresh(self) -> None:
        count = len(self._data)
        self._mean = self._sum / count
        variance = max(self._squares / count - self._mean * self._mean, 0.0)
        self._std = math.sqrt(variance) or 0.000001  # NAB's floor for a flat window

    def dump_state(self) -> bytes:
        """The window, the pending step and the running sums as bytes."""
        header = self._HEADER.pack(
            b"CLWG", len(self._data), len(self._pending), self._sum, self._squares
        )
        return header + self._data.tobytes() + self._pending.tobytes()

    def load(self, state: bytes) -> None:
        """Resume from `dump_state()` bytes."""
        magic, size, pending, total, squares = self._HEADER.unpack_from(state)
        if magic != b"CLWG":
            raise ValueError("not a windowed Gaussian state")
        values = array("f")
        values.frombytes(state[self._HEADER.size :])
        self._data, self._pending = values[:size], values[size : size + pending]
        self._sum, self._squares = total, squares
        if size:
            self._refresh()


class SeasonalEwmaDetector:
    """Exponentially weighted mean and variance per hour of the week, in log(1 + count)."""

    SLOTS = 7 * 24

    def __init__(self, rate: float = 0.1, warmup: int = 288, threshold: float = 0.999) -> None:
        self.rate = rate
        self.warmup = warmup
        self.threshold = threshold
        # per slot: mean, variance, and whether the slot has seen a value
        self._state = array("f", [0.0] * (3 * self.SLOTS))
        self._seen = 0

    def update(self, timestamp: datetime, value: float) -> Reading:
        """Score an increase over the slot's usual level, then learn the value."""
        slot = timestamp.weekday() * 24 + timestamp.hour
        st = self._state
        y = math.log1p(max(value, 0.0))
        mean, variance, known = st[slot], st[self.SLOTS + slot], st[2 * self.SLOTS + slot]
        std = math.sqrt(variance) + 0.1  # a floor: a slot that was always 0 is not certain
        z = (y - mean) / std if known else 0.0
        score = 0.0
        if self._seen >= self.warmup and z > 0:
            score = 1.0 - 2.0 * tail_probability(z)
        if known:
            delta = y - mean
            st[slot] = mean + self.rate * delta
            st[self.SLOTS + slot] = (1 - self.rate) * (variance + self.rate * delta * delta)
        else:
            st[slot], st[2 * self.SLOTS + slot] = y, 1.0
        self._seen += 1
        return Reading(
            score=score,
            expected=math.expm1(mean),
            low=max(math.expm1(mean - 3 * std), 0.0),
            high=math.expm1(mean + 3 * std),
            alert=score >= self.threshold,
            surprise=z,
        )

    def dump_state(self) -> bytes:
        """The per-slot means and variances as bytes."""
        return struct.pack("<4sq", b"CLSE", self._seen) + self._state.tobytes()

    def load(self, state: bytes) -> None:
        """Resume from `dump_state()` bytes."""
        magic, seen = struct.unpack_from("<4sq", state)
        if magic != b"CLSE":
            raise ValueError("not a seasonal EWMA state")
        values = array("f")
        values.frombytes(state[12:])
        if len(values) != len(self._state):
            raise ValueError("state has the wrong size")
        self._state, self._seen = values, seen
