"""The ASR tensor contract shared by every recogniser of the repository (whisper, dtmf).

In:  AUDIO FP32 16 kHz mono, plus optional LANGUAGE, TASK and PROMPT strings.
Out: TRANSCRIPT (the text) and SEGMENTS (JSON: language, duration, segments with words), both BYTES.

This is inference/local/models/asr.ts in Python: the same inputs give the same JSON, byte for byte
(key order, no spaces, raw UTF-8, whole numbers without ".0", times rounded as JavaScript's
Math.round does), so a client cannot tell Triton from the local sidecar.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np

from .triton_io import InputError, input_array, request_parameters

TEXT_INPUTS = ("LANGUAGE", "TASK", "PROMPT")


@dataclass
class AsrWord:
    """One recognised word (a key, for dtmf); times in seconds from the start of AUDIO."""

    word: str
    start: float
    end: float
    probability: float


@dataclass
class AsrSegment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: list[AsrWord] = field(default_factory=list)


@dataclass
class AsrResult:
    """What SEGMENTS carries."""

    language: str
    duration: float
    segments: list[AsrSegment] = field(default_factory=list)


@dataclass
class AsrItem:
    """One row of an ASR request. A text is None when neither its input nor its parameter is set (or empty)."""

    audio: np.ndarray
    language: str | None = None
    task: str | None = None
    prompt: str | None = None


def js_round(value: float, digits: int) -> float:
    """Math.round(value * 10^digits) / 10^digits, as the sidecar rounds (halves go up, not to even)."""
    scale = 10**digits
    return math.floor(value * scale + 0.5) / scale


def _text(name: str, value: Any) -> str | None:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(name, "is not valid UTF-8") from None
    return text if text != "" else None


def asr_items(
    audio: np.ndarray | None,
    texts: Mapping[str, np.ndarray | None],
    parameters: Mapping[str, Any],
    batched: bool,
) -> list[AsrItem]:
    """The items of one request: one per batch row when the model batches, else one.

    A text input falls back to the request parameter of the same name in lower case (`language`,
    `task`, `prompt`), so a client can send either; an input that is sent wins, even when empty.
    """
    if audio is None or audio.dtype != np.float32:
        raise InputError("AUDIO", "missing or not FP32")
    if batched:
        if audio.ndim != 2:
            raise InputError("AUDIO", f"has shape {list(audio.shape)}; this model takes [batch, samples]")
        rows = [audio[r] for r in range(audio.shape[0])]
    else:
        if audio.ndim != 1:
            raise InputError("AUDIO", f"has shape {list(audio.shape)}; this model takes [samples]")
        rows = [audio]

    def text(name: str, row: int) -> str | None:
        tensor = texts.get(name)
        if tensor is not None:
            elements = np.asarray(tensor, dtype=object).reshape(-1)
            if row >= elements.size:
                raise InputError(name, "has no element for every batch row")
            return _text(name, elements[row])
        parameter = parameters.get(name.lower())
        return parameter if isinstance(parameter, str) and parameter != "" else None

    return [
        AsrItem(audio=samples, language=text("LANGUAGE", r), task=text("TASK", r), prompt=text("PROMPT", r))
        for r, samples in enumerate(rows)
    ]


def request_items(request: Any, batched: bool) -> list[AsrItem]:
    """`asr_items` of a Triton request."""
    return asr_items(
        input_array(request, "AUDIO"),
        {name: input_array(request, name) for name in TEXT_INPUTS},
        request_parameters(request),
        batched,
    )


def transcript(result: AsrResult) -> str:
    return " ".join(segment.text for segment in result.segments)


def _as_js_numbers(value: Any) -> Any:
    # JSON.stringify writes 1 for 1.0, 0 for -0.0 and null for NaN or Infinity.
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {key: _as_js_numbers(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_as_js_numbers(v) for v in value]
    return value


def segments_json(result: AsrResult) -> str:
    """SEGMENTS as JSON.stringify would write it."""
    return json.dumps(_as_js_numbers(asdict(result)), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def asr_outputs(results: list[AsrResult], batched: bool) -> dict[str, np.ndarray]:
    """TRANSCRIPT and SEGMENTS of one request's results, shaped [rows, 1] when batched, else [1]."""
    shape = (len(results), 1) if batched else (1,)
    transcripts = np.array([transcript(r).encode("utf-8") for r in results], dtype=object).reshape(shape)
    segments = np.array([segments_json(r).encode("utf-8") for r in results], dtype=object).reshape(shape)
    return {"TRANSCRIPT": transcripts, "SEGMENTS": segments}
