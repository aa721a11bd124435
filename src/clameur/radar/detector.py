"""Streaming anomaly detector for mention counts in fixed buckets (5 minutes by default).

One `SeriesDetector` per series; `update()` takes the next bucket and returns a `Reading`: the
anomaly score in [0, 1], the expected count and a band (low, high). It is causal (a reading
depends only on the buckets before and at its timestamp) and costs O(1) per bucket in plain
Python; its whole state is 84 float32 values and a 28-byte header (364 bytes), dumped with
`dump_state()` and restored with `load()`, so that the app keeps one state per series in its
database and resumes exactly.

The model, in log(1 + count) space:

- expected = level + hour-of-day effect + day-of-week effect (the daily and weekly rhythm),
  each updated by a winsorised residual, so that a spike does not become the new normal;
- the residual is standardised at two time scales (the bucket, and an exponential moving
  average of the residuals with a span of 4 hours, which catches a sustained rise or a level
  shift that no single bucket shows) by a spread tracked per hour of the day and per scale,
  never below half the Poisson noise of the expected count (low-volume series are noisy in log
  space: 0 -> 3 mentions is no crisis);
- on a quiet day of the week the residual is first reduced by a quarter of the gap between
  that day's effect and the busiest day's, so a burst that only stands out against a weekend
  dip counts for less (bursts at night, against the daily rhythm, are left as they are: that
  variant scored worse);
- the surprise z (the larger of the two) becomes the score ``z / (z + m)`` where m is the
  larger of two memories of past surprises: the largest of the recent past (decaying towards a
  floor in about a day) and 0.7 times the largest of the last several days (decaying in about
  five days). A score above one half means "bigger than anything lately, and not small beside
  this week's biggest event". Once an event has been reported, its own aftershocks score low,
  so an alert fires at the start of an event and then stays quiet (what an alert rule wants,
  and what NAB rewards);
- a refractory period makes that explicit: once a reading scores 0.55 (about the alert
  threshold at sensitivity 0.5), the next 6 hours of scores are halved, so a burst that grows
  bucket after bucket alerts once, at its onset.

The defaults were chosen on NAB's realTweets series (bench/radar.py: 81.4 / 68.6 / 87.6
standard / low-FP / low-FN in-sample, 79.5 / 64.5 / 86.3 without the quiet-day share and the
refractory period; the leave-one-series-out figure there says what that tuning is worth on a
series it did not see).

Missing buckets (a gap in the timestamps) are counts of zero: no row means no mention. A gap
longer than `max_fill_buckets` (a day by default) is treated as an outage instead: time jumps
forward and the model is left as it was.
"""

from __future__ import annotations

import math
import struct
import zlib
from array import array
from dataclasses import astuple, dataclass
from datetime import UTC, datetime, timedelta

SLOTS = 24  # hour-of-day slots of the daily rhythm
DAYS = 7
_MAGIC = b"CLRD"
_VERSION = 3
# magic, version, slots, points seen, last timestamp (µs since the epoch), parameters' crc32
_HEADER = struct.Struct("<4sHHqqI")


@dataclass(frozen=True)
class DetectorParams:
    """The detector's fixed hyper-parameters (the same for every series)."""

    level_rate: float = 1 / 288  # level follows in about a day
    daily_rate: float = 0.02  # hour-of-day effect: about 4 days of memory
    weekly_rate: float = 0.003  # day-of-week effect: about 1.2 weeks of its day
    spread_rate: float = 0.072  # per-hour spread: about 14 of its updates
    clip: float = 3.0  # residuals are winsorised at this many spreads before learning
    spread_floor: float = 0.1
    poisson_floor: float = 0.5  # spread never below this share of the Poisson noise
    long_span: int = 48  # span (buckets) of the moving average of the second time scale (4 h)
    memory_decay: float = 0.998  # per bucket, of the recent largest surprise (about a day)
    slow_decay: float = 0.9995  # per bucket, of the slow memory (about 5 days)
    slow_share: float = 0.7  # an alert must also beat this share of the slow memory
    memory_floor: float = 4.0  # a surprise below this is never "bigger than lately"
    warmup: int = 288  # buckets before the first non-zero score (a day)
    band_z: float = 3.0  # the band is expected +/- this many spreads
    quiet_day_share: float = 0.25  # a quiet day's surprise is measured this far towards the busiest
    refractory: int = 72  # buckets (6 h) of damped scores after a reading reaches the level below
    refractory_level: float = 0.55
    refractory_factor: float = 0.5
    max_fill_buckets: int = 288

    def fingerprint(self) -> int:
        """A checksum of the parameters, stored with a state to refuse a mismatched load."""
        return zlib.crc32(repr(astuple(self)).encode())


@dataclass(frozen=True, slots=True)
class Reading:
    """What the detector says about one bucket."""

    score: float  # anomaly score in [0, 1]; above the alert threshold -> alert
    expected: float  # expected count for this bucket
    low: float  # plausible band for the count
    high: float
    alert: bool  # score >= the threshold of the detector's sensitivity
    surprise: float  # the standardised surprise z behind the score (negative: a dip)


def alert_threshold(sensitivity: float) -> float:
    """The score above which a reading alerts: sensitivity 0 (few alerts) .. 1 (many)."""
    sensitivity = min(max(sensitivity, 0.0), 1.0)
    # 0.5 sits at the threshold NAB's standard profile picks on realTweets (bench/radar.py).
    return 0.71 - 0.3 * sensitivity


def _epoch_us(moment: datetime) -> int:
    # Naive datetimes are taken as UTC so that the machine's time zone never matters.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1_000_000)


class SeriesDetector:
    """Causal detector for one count series; see the module docstring for the model."""

    def __init__(
        self,
        sensitivity: float = 0.5,
        bucket_minutes: int = 5,
        params: DetectorParams | None = None,
    ) -> None:
        self.params = params or DetectorParams()
        self.sensitivity = sensitivity
        self.threshold = alert_threshold(sensitivity)
        self.bucket_us = bucket_minutes * 60 * 1_000_000
        self._long_rate = 2.0 / (self.params.long_span + 1)
        # The Poisson noise of an exponential moving average of independent residuals.
        self._long_noise = math.sqrt(self._long_rate / (2.0 - self._long_rate))
        # Layout of the float32 state: level, memory, slow memory, long-scale mean, buckets
        # left of the refractory period, daily[24], weekly[7], spread[2][24]. Every value that
        # survives a call lives here, so a dump and a load resume bit for bit.
        self._daily = 5
        self._weekly = self._daily + SLOTS
        self._spread = self._weekly + DAYS
        self._state = array("f", [0.0] * (self._spread + 2 * SLOTS))
        self._state[1] = self.params.memory_floor
        self._state[2] = self.params.memory_floor
        for slot in range(2 * SLOTS):
            self._state[self._spread + slot] = 0.3
        self._seen = 0
        self._last_us: int | None = None

    @property
    def points_seen(self) -> int:
        """How many buckets the model has learnt from (gap fills included)."""
        return self._seen

    def update(self, timestamp: datetime, value: float) -> Reading:
        """Learn the next bucket and say how anomalous it is."""
        now = _epoch_us(timestamp)
        if self._last_us is not None:
            steps = round((now - self._last_us) / self.bucket_us)
            if steps < 1:
                raise ValueError(
                    f"timestamp {timestamp} is not after the previous bucket: "
                    "buckets must come in time order, one per bucket"
                )
            missing = steps - 1
            if 0 < missing <= self.params.max_fill_buckets:
                step = timedelta(microseconds=self.bucket_us)
                for back in range(missing, 0, -1):
                    self._step(timestamp - back * step, 0.0)
        self._last_us = now
        return self._step(timestamp, value)

    def _step(self, moment: datetime, value: float) -> Reading:
        p = self.params
        st = self._state
        hour = moment.hour
        day = moment.weekday()
        n = self._seen
        y = math.log1p(max(value, 0.0))
        if n == 0:
            st[0] = y
        level = st[0]
        daily = st[self._daily + hour] - sum(st[self._daily : self._weekly]) / SLOTS
        weekly = st[self._weekly + day] - sum(st[self._weekly : self._spread]) / DAYS
        expected_log = level + daily + weekly
        residual = y - expected_log
        mu = max(math.expm1(expected_log), 0.0)
        # The Poisson standard deviation of log(1 + X) at mean mu, by the delta method.
        noise = p.poisson_floor * math.sqrt(mu + 0.25) / (mu + 1.0)

        # A burst on a quiet day (the weekend) is judged partly against the busiest day's level:
        # what stands out against a weekend dip alone is seldom an event.
        quiet_gap = p.quiet_day_share * (
            max(st[self._weekly : self._spread]) - st[self._weekly + day]
        )

        # Two time scales: the bucket, and a moving average of the residuals over a few
        # hours (a sustained rise that no single bucket shows), each over its own spread.
        st[3] += self._long_rate * (residual - st[3])
        surprise = -math.inf
        for scale, (mean, noise_share) in enumerate(((residual, 1.0), (st[3], self._long_noise))):
            at = self._spread + scale * SLOTS + hour
            spread = max(st[at], p.spread_floor, noise * noise_share)
            surprise = max(surprise, (mean - quiet_gap) / spread)
            st[at] += p.spread_rate * (min(abs(mean), p.clip * spread) - st[at])
            if scale == 0:
                first_spread = spread

        # Learn from the residual winsorised at clip spreads: a spike moves nothing much.
        bounded = max(-p.clip * first_spread, min(p.clip * first_spread, residual))
        st[0] = level + p.level_rate * bounded
        st[self._daily + hour] += p.daily_rate * bounded
        st[self._weekly + day] += p.weekly_rate * bounded
        self._seen = n + 1

        score = 0.0
        if n >= p.warmup:
            memory = st[1]
            slow = st[2]
            if surprise > 0:
                score = surprise / (surprise + max(memory, p.slow_share * slow))
            # Refractory period: once a reading reaches the level, the next hours are damped,
            # so that an event alerts at its onset and its aftershocks do not alert again.
            if st[4] > 0:
                score *= p.refractory_factor
                st[4] -= 1
            if score >= p.refractory_level:
                st[4] = p.refractory
            floor = p.memory_floor
            st[1] = max(surprise, floor + (memory - floor) * p.memory_decay)
            st[2] = max(surprise, floor + (slow - floor) * p.slow_decay)
        low = max(math.expm1(expected_log - p.band_z * first_spread), 0.0)
        high = math.expm1(expected_log + p.band_z * first_spread)
        return Reading(
            score=score,
            expected=mu,
            low=low,
            high=high,
            alert=score >= self.threshold,
            surprise=surprise,
        )

    def dump_state(self) -> bytes:
        """The detector's state as compact bytes (a header and float32 values)."""
        header = _HEADER.pack(
            _MAGIC,
            _VERSION,
            SLOTS,
            self._seen,
            self._last_us if self._last_us is not None else -1,
            self.params.fingerprint(),
        )
        return header + self._state.tobytes()

    def load(self, state: bytes) -> None:
        """Resume from `dump_state()` bytes made with the same parameters."""
        if len(state) != _HEADER.size + len(self._state) * self._state.itemsize:
            raise ValueError("state has the wrong size for these detector parameters")
        magic, version, slots, seen, last_us, fingerprint = _HEADER.unpack_from(state)
        if magic != _MAGIC or version != _VERSION or slots != SLOTS:
            raise ValueError("not a SeriesDetector state (or one of another version)")
        if fingerprint != self.params.fingerprint():
            raise ValueError("state was made with other detector parameters")
        values = array("f")
        values.frombytes(state[_HEADER.size :])
        self._state = values
        self._seen = seen
        self._last_us = None if last_us == -1 else last_us
