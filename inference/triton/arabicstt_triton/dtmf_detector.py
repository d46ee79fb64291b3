"""DTMF (telephone keypad) tones: Goertzel filters at the eight ITU-T Q.23 frequencies, Q.24-style checks.

inference/local/models/dtmf-detector.ts and dtmf.ts in numpy, decision for decision, so that both
servers report the same keys at the same times. How it works (see the TypeScript for the reasoning):

  * one Hann-windowed frame per hop, centred on sample i * hop (zeros beyond the ends);
  * each frame measures the eight frequencies; it shows a key when its strongest row and column tone
    are above the minimum level, within the allowed twist, stand out from the other rows/columns,
    and hold most of the frame's energy;
  * frames showing one key join into a tone (one stray frame in noise is bridged);
  * the tone's start and end are where its level crosses half its steady level, interpolated
    between frame centres; tones shorter than the minimum are dropped.

The Goertzel recurrence's final power equals |sum x[n] e^(-j w n)|^2, so every frame and frequency
is measured at once as one matrix product instead of a sample loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .asr_contract import AsrSegment, AsrWord, js_round

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")


@dataclass(frozen=True)
class DtmfOptions:
    sample_rate: float = 16000
    frame_ms: float = 25  # analysis window
    hop_ms: float = 10  # step between windows
    min_tone_ms: float = 30  # shortest tone reported, between its half-level points
    min_level_dbfs: float = -40  # weakest level of each frequency, dB re a full-scale sine
    max_twist_db: float = 8  # largest row/column level difference, either way
    min_peak_ratio_db: float = 10  # how far the strongest row (column) must exceed the others
    min_tone_share: float = 0.6  # share of the frame's energy the two tones must hold


@dataclass(frozen=True)
class DtmfKey:
    key: str
    start: float  # seconds
    end: float
    confidence: float  # the tone's mean share of the energy, 0-1


@dataclass
class _Frames:
    amplitudes: np.ndarray  # [frames, 8], sine amplitude of each frequency (rows, then columns)
    keys: np.ndarray  # [frames], key index 0-15 or -1
    shares: np.ndarray  # [frames], the two tones' share of the frame's energy


def _js_round(value: float) -> int:
    return math.floor(value + 0.5)


def detect_dtmf(samples: np.ndarray, options: DtmfOptions = DtmfOptions()) -> list[DtmfKey]:
    """The keys in `samples` (mono, options.sample_rate), in order."""
    samples = np.asarray(samples, dtype=np.float32)
    o = options
    frames = _analyse(samples, o)
    count = len(frames.keys)
    hop_seconds = _js_round(o.hop_ms * o.sample_rate / 1000) / o.sample_rate

    def level(i: int, key: int) -> float:
        return float((frames.amplitudes[i, key // 4] + frames.amplitudes[i, 4 + key % 4]) / 2)

    keys: list[DtmfKey] = []
    previous_end = -1
    for key, first, last in _join_frames(frames):
        steady = float(np.median([level(i, key) for i in range(first, last + 1)]))
        half = steady / 2
        # Walk outwards from the run to the frames where the tone's level falls below half.
        before = first
        while before > previous_end + 1 and before > 0 and level(before - 1, key) >= half:
            before -= 1
        after = last
        while after < count - 1 and level(after + 1, key) >= half:
            after += 1
        previous_end = after

        def crossing(below: int, above: int) -> float:
            if below < 0 or below >= count:
                return float(above)
            a, b = level(below, key), level(above, key)
            t = 1.0 if b == a else min(1.0, max(0.0, (half - a) / (b - a)))
            return below + (above - below) * t

        start = crossing(before - 1, before) * hop_seconds
        end = crossing(after + 1, after) * hop_seconds
        if (end - start) * 1000 < o.min_tone_ms:
            continue
        run = np.arange(first, last + 1)
        shares = frames.shares[run][frames.keys[run] == key]
        keys.append(
            DtmfKey(
                key=KEYPAD[key // 4][key % 4],
                start=max(0.0, start),
                end=min(len(samples) / o.sample_rate, end),
                confidence=min(1.0, float(np.mean(shares))),
            )
        )
    return keys


def _analyse(samples: np.ndarray, o: DtmfOptions) -> _Frames:
    size = _js_round(o.frame_ms * o.sample_rate / 1000)
    hop = _js_round(o.hop_ms * o.sample_rate / 1000)
    n = np.arange(size)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * (n + 0.5) / size)
    window_sum = window.sum()
    window_power = (window * window).sum()
    count = math.ceil(len(samples) / hop) + 1
    # Frame i covers samples [i*hop - size//2, i*hop - size//2 + size), zeros beyond the ends.
    padded = np.zeros(size // 2 + count * hop + size, dtype=np.float64)
    padded[size // 2 : size // 2 + len(samples)] = samples
    starts = np.arange(count) * hop
    x = padded[starts[:, None] + n[None, :]] * window[None, :]
    energy = (x * x).sum(axis=1)
    omegas = 2 * np.pi * np.array(ROWS + COLS) / o.sample_rate
    basis = np.exp(-1j * np.outer(n, omegas))  # [size, 8]
    magnitude_squared = np.abs(x @ basis) ** 2
    # |X| of a sine of amplitude A under the window is A * sum(w) / 2.
    amplitudes = 2 * np.sqrt(magnitude_squared) / window_sum
    powers = amplitudes * amplitudes / 2

    min_power = 0.5 * 10 ** (o.min_level_dbfs / 10)
    max_twist = 10 ** (o.max_twist_db / 10)
    peak_ratio = 10 ** (o.min_peak_ratio_db / 10)
    row = np.argmax(powers[:, :4], axis=1)
    col = np.argmax(powers[:, 4:], axis=1)
    frame_index = np.arange(count)
    row_power = powers[frame_index, row]
    col_power = powers[frame_index, 4 + col]
    mean_power = energy / window_power
    shares = np.divide(row_power + col_power, mean_power, out=np.zeros(count), where=mean_power > 0)
    shows_key = (
        (row_power >= min_power)
        & (col_power >= min_power)
        & (row_power <= col_power * max_twist)
        & (col_power <= row_power * max_twist)
        & _stands_out(powers[:, :4], row, peak_ratio)
        & _stands_out(powers[:, 4:], col, peak_ratio)
        & (shares >= o.min_tone_share)
    )
    keys = np.where(shows_key, row * 4 + col, -1)
    return _Frames(amplitudes=amplitudes, keys=keys, shares=shares)


def _stands_out(powers: np.ndarray, best: np.ndarray, ratio: float) -> np.ndarray:
    """Whether the best of each frame's group exceeds every other one by `ratio`."""
    best_power = powers[np.arange(len(best)), best]
    others = powers.copy()
    others[np.arange(len(best)), best] = -np.inf
    return np.all(best_power[:, None] >= others * ratio, axis=1)


def _join_frames(frames: _Frames) -> list[tuple[int, int, int]]:
    """(key, first frame, last frame) of each run of frames showing one key.

    A frame that does not show the run's key ends the run when the key's own level there has fallen
    below half the run's peak (the tone stopped) or when a second such frame follows (the tone is
    lost); a single weak frame in noise is bridged.
    """

    def level(i: int, key: int) -> float:
        return float((frames.amplitudes[i, key // 4] + frames.amplitudes[i, 4 + key % 4]) / 2)

    runs: list[tuple[int, int, int]] = []
    run: list[int] | None = None  # [key, first, last]
    peak = 0.0
    misses = 0
    for i, key in enumerate(frames.keys.tolist()):
        if run is not None and key == run[0]:
            run[2] = i
            misses = 0
            peak = max(peak, level(i, run[0]))
            continue
        if run is not None:
            misses += 1
            if key >= 0 or level(i, run[0]) < peak / 2 or misses > 1:
                runs.append((run[0], run[1], run[2]))
                run = None
        if run is None and key >= 0:
            run = [key, i, i]
            peak = level(i, key)
            misses = 0
    if run is not None:
        runs.append((run[0], run[1], run[2]))
    return runs


def dtmf_segments(keys: list[DtmfKey], gap_seconds: float) -> list[AsrSegment]:
    """One segment per run of keys (a pause longer than `gap_seconds` starts a new one), a word per key."""
    segments: list[AsrSegment] = []
    current: list[DtmfKey] = []

    def flush() -> None:
        if not current:
            return
        segments.append(
            AsrSegment(
                start=js_round(current[0].start, 3),
                end=js_round(current[-1].end, 3),
                text="".join(k.key for k in current),
                avg_logprob=js_round(sum(math.log(max(k.confidence, 1e-6)) for k in current) / len(current), 3),
                no_speech_prob=0,
                words=[
                    AsrWord(word=k.key, start=js_round(k.start, 3), end=js_round(k.end, 3), probability=js_round(k.confidence, 3))
                    for k in current
                ],
            )
        )
        current.clear()

    for key in keys:
        if current and key.start - current[-1].end > gap_seconds:
            flush()
        current.append(key)
    flush()
    return segments
