"""Log-mel filterbank features as Kaldi's compute-fbank-feats (and torchaudio.compliance.kaldi.fbank) make them.

inference/local/models/fbank.ts in numpy, with its defaults and no dither: 25 ms frames every 10 ms
(snip edges), DC removed, pre-emphasis 0.97, Povey window, power spectrum of a 512-point FFT,
triangular filters evenly spaced on Kaldi's mel scale from 20 Hz to Nyquist, natural log, and each
bin's mean over time subtracted. Speaker models (WeSpeaker, 3D-Speaker ECAPA-TDNN) expect these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_LOG_FLOOR = 1.1920929e-7  # float32 epsilon, Kaldi's floor before the log


@dataclass(frozen=True)
class FbankOptions:
    sample_rate: int = 16000
    num_mel_bins: int = 80
    frame_ms: float = 25
    hop_ms: float = 10
    low_freq: float = 20
    preemphasis: float = 0.97
    mean_normalize: bool = True


def _mel(hz: np.ndarray | float) -> np.ndarray | float:
    return 1127 * np.log(1 + np.asarray(hz, dtype=np.float64) / 700)


@lru_cache(maxsize=8)
def _mel_banks(sample_rate: int, num_mel_bins: int, low_freq: float, fft_size: int) -> np.ndarray:
    """Kaldi's triangular filters as a dense [num_mel_bins, fft_size/2 + 1] matrix (the Nyquist bin unused)."""
    low = _mel(low_freq)
    delta = (_mel(sample_rate / 2) - low) / (num_mel_bins + 1)
    bins = _mel(np.arange(fft_size // 2) * sample_rate / fft_size)
    banks = np.zeros((num_mel_bins, fft_size // 2 + 1))
    for m in range(num_mel_bins):
        left = low + m * delta
        centre = left + delta
        right = centre + delta
        rising = (bins > left) & (bins <= centre)
        falling = (bins > centre) & (bins < right)
        banks[m, : fft_size // 2][rising] = (bins[rising] - left) / delta
        banks[m, : fft_size // 2][falling] = (right - bins[falling]) / delta
    return banks


def fbank(samples: np.ndarray, options: FbankOptions = FbankOptions()) -> np.ndarray:
    """Features of `samples`, [frames, num_mel_bins] float32; no frames when shorter than one window."""
    o = options
    samples = np.asarray(samples, dtype=np.float32).astype(np.float64)
    size = math.floor(o.frame_ms * o.sample_rate / 1000 + 0.5)
    hop = math.floor(o.hop_ms * o.sample_rate / 1000 + 0.5)
    frames = 0 if len(samples) < size else 1 + (len(samples) - size) // hop
    if frames == 0:
        return np.zeros((0, o.num_mel_bins), dtype=np.float32)
    fft_size = 1 << (size - 1).bit_length()
    n = np.arange(size)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * n / (size - 1))) ** 0.85
    x = samples[np.arange(frames)[:, None] * hop + n[None, :]]
    x = x - x.mean(axis=1, keepdims=True)
    previous = np.concatenate([x[:, :1], x[:, :-1]], axis=1)  # the first sample is its own predecessor
    x = (x - o.preemphasis * previous) * window
    power = np.abs(np.fft.rfft(x, n=fft_size, axis=1)) ** 2
    energies = power @ _mel_banks(o.sample_rate, o.num_mel_bins, o.low_freq, fft_size).T
    features = np.log(np.maximum(energies, _LOG_FLOOR)).astype(np.float32)
    if o.mean_normalize:
        features = (features - features.astype(np.float64).mean(axis=0, keepdims=True)).astype(np.float32)
    return features
