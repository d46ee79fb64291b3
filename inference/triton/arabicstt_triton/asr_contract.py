"""The ASR tensor contract shared by every recogniser of the repository (whisper, dtmf).

In:  AUDIO FP32 16 kHz mono, plus optional LANGUAGE, TASK and PROMPT strings and MAX_ALTERNATIVES (INT32, 1 to 10).
Out: TRANSCRIPT (the text), SEGMENTS (JSON: language, duration, segments with words) and ALTERNATIVES
     (JSON array of the n-best texts, most probable first, the first being TRANSCRIPT), all BYTES.

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
# The most hypotheses a request may ask for (RecognitionConfig.max_alternatives allows 10).
MAX_ALTERNATIVES = 10


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
    # The runner-up hypotheses' texts, best first; empty when the model gives one. Not in SEGMENTS
    # (they have no words or times): ALTERNATIVES carries them after the transcript.
    alternatives: list[str] = field(default_factory=list)


@dataclass
class AsrItem:
    """One row of an ASR request. A text is None when neither its input nor its parameter is set (or empty)."""

    audio: np.ndarray
    language: str | None = None
    task: str | None = None
    prompt: str | None = None
    max_alternatives: int = 1


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
    MAX_ALTERNATIVES (an INT32 tensor in `texts`, or the parameter `max_alternatives`) defaults to 1.
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

    def count(row: int) -> int:
        tensor = alternatives
        if tensor is None:
            value: Any = parameters.get("max_alternatives", 1)
        else:
            elements = np.asarray(tensor).reshape(-1)
            if row >= elements.size:
                raise InputError("MAX_ALTERNATIVES", "has no element for every batch row")
            value = elements[row].item()  # a Python number, so the message reads "11", not "np.int32(11)"
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= int(value) <= MAX_ALTERNATIVES:
            raise InputError("MAX_ALTERNATIVES", f"is {value!r}; it must be an integer from 1 to {MAX_ALTERNATIVES}")
        return int(value)

    alternatives = texts.get("MAX_ALTERNATIVES")
    return [
        AsrItem(audio=samples, language=text("LANGUAGE", r), task=text("TASK", r), prompt=text("PROMPT", r), max_alternatives=count(r))
        for r, samples in enumerate(rows)
    ]


def request_items(request: Any, batched: bool) -> list[AsrItem]:
    """`asr_items` of a Triton request."""
    return asr_items(
        input_array(request, "AUDIO"),
        {name: input_array(request, name) for name in (*TEXT_INPUTS, "MAX_ALTERNATIVES")},
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
    fields = asdict(result)
    del fields["alternatives"]
    return json.dumps(_as_js_numbers(fields), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def alternatives_json(result: AsrResult) -> str:
    """ALTERNATIVES as JSON.stringify would write it: the transcript, then the runner-up texts."""
    return json.dumps([transcript(result), *result.alternatives], ensure_ascii=False, separators=(",", ":"))


def asr_outputs(results: list[AsrResult], batched: bool) -> dict[str, np.ndarray]:
    """TRANSCRIPT, SEGMENTS and ALTERNATIVES of one request's results, shaped [rows, 1] when batched, else [1]."""
    shape = (len(results), 1) if batched else (1,)

    def column(render) -> np.ndarray:
        return np.array([render(r).encode("utf-8") for r in results], dtype=object).reshape(shape)

    return {"TRANSCRIPT": column(transcript), "SEGMENTS": column(segments_json), "ALTERNATIVES": column(alternatives_json)}
