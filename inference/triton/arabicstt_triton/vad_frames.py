"""The Silero VAD v5 frame loop: a speech probability per 512-sample frame of whole clips.

The ONNX graph is stateful: each call takes 64 samples of context (the tail of the previous call's
input) and 512 new samples per clip, the LSTM state [2, clips, 128] and the sample rate, and returns
each clip's probability for the frame and the next state. This loop carries both across frames the
way inference/local/models/vad.ts (and Silero's own OnnxWrapper) does.

Clips of different lengths run together: each is zero-padded to the longest, and its probabilities
are cut to its own ceil(length / 512) frames. Clips are independent rows of the graph's batch axis,
so a clip's probabilities do not depend on what it was batched with.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

STATE_UNITS = 128

# (input [clips, context + frame], state [2, clips, 128]) -> (probabilities [clips], next state)
FrameRunner = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def frame_count(samples: int, frame_samples: int) -> int:
    return math.ceil(samples / frame_samples)


def speech_probabilities(
    clips: Sequence[np.ndarray],
    run: FrameRunner,
    frame_samples: int = 512,
    context_samples: int = 64,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[np.ndarray]:
    """Per clip, the speech probability of each frame (the last one zero-padded), float32."""
    lengths = [len(c) for c in clips]
    frames = [frame_count(n, frame_samples) for n in lengths]
    most = max(frames, default=0)
    probs = np.zeros((len(clips), most), dtype=np.float32)
    if most == 0:
        return [probs[i, :0].copy() for i in range(len(clips))]
    padded = np.zeros((len(clips), most * frame_samples), dtype=np.float32)
    for i, clip in enumerate(clips):
        padded[i, : lengths[i]] = clip
    width = context_samples + frame_samples
    window = np.zeros((len(clips), width), dtype=np.float32)
    state = np.zeros((2, len(clips), STATE_UNITS), dtype=np.float32)
    for f in range(most):
        if should_stop():
            raise InterruptedError("the request was cancelled")
        # The new context is the tail of the previous input, then the next frame.
        window[:, :context_samples] = window[:, width - context_samples :]
        window[:, context_samples:] = padded[:, f * frame_samples : (f + 1) * frame_samples]
        p, state = run(window.copy(), state)
        probs[:, f] = np.asarray(p, dtype=np.float32).reshape(len(clips))
    return [probs[i, : frames[i]].copy() for i in range(len(clips))]


class VadSequence:
    """What a sequence of `vad_stream` carries between requests: the last input window and the LSTM state."""

    def __init__(self, frame_samples: int = 512, context_samples: int = 64) -> None:
        self.window = np.zeros((1, context_samples + frame_samples), dtype=np.float32)
        self.state = np.zeros((2, 1, STATE_UNITS), dtype=np.float32)


def sequence_probabilities(
    audio: np.ndarray,
    run: FrameRunner,
    held: VadSequence,
    frame_samples: int = 512,
    context_samples: int = 64,
    should_stop: Callable[[], bool] = lambda: False,
) -> np.ndarray:
    """The probabilities of `audio` (whole frames) as the next part of `held`'s sequence, which it advances.

    One clip fed through here in parts gives exactly what speech_probabilities gives for the whole clip.
    """
    if len(audio) % frame_samples != 0:
        raise ValueError(f"a request of a sequence carries whole {frame_samples}-sample frames (got {len(audio)} samples)")
    frames = len(audio) // frame_samples
    probs = np.zeros(frames, dtype=np.float32)
    width = context_samples + frame_samples
    for f in range(frames):
        if should_stop():
            raise InterruptedError("the request was cancelled")
        held.window[:, :context_samples] = held.window[:, width - context_samples :]
        held.window[0, context_samples:] = audio[f * frame_samples : (f + 1) * frame_samples]
        p, held.state = run(held.window.copy(), held.state)
        probs[f] = float(np.asarray(p, dtype=np.float32).reshape(-1)[0])
    return probs
