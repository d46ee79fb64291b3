"""Whisper's tokens to the SEGMENTS of the ASR contract, and what a decode request is.

Pure Python and numpy (no torch), so it is tested here and shared by the Triton backend and the
benchmark. It follows inference/local/models/whisper.ts where that applies:

  * text comes from the tokens' own bytes (byte-level BPE), so an Arabic letter split across two
    tokens decodes exactly; words start at tokens that begin with a space;
  * segment times come from Whisper's timestamp tokens; a segment without text is left out;
  * word times come from cross-attention alignment (dynamic time warping of the alignment heads'
    attention against the audio frames, as openai-whisper does), or are spread evenly over the
    segment when the model has no alignment heads;
  * every time is clamped into [0, duration], monotone, and inside its segment.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from .asr_contract import AsrResult, AsrSegment, AsrWord, js_round
from .triton_io import InputError

SAMPLE_RATE = 16000
# Whisper's window: 30 s of audio, 3000 mel frames, 1500 encoder frames; a timestamp token per 20 ms.
WINDOW_SAMPLES = 30 * SAMPLE_RATE
HOP_SAMPLES = 160
TIMESTAMPS_PER_SECOND = 50
AUDIO_FRAMES_PER_SECOND = 50

# In the order of Whisper's language tokens (as whisper.cpp and openai-whisper list them).
WHISPER_LANGUAGES: tuple[str, ...] = tuple(
    (
        "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la mi ml "
        "cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am "
        "yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su yue"
    ).split(" ")
)

TASKS = ("transcribe", "translate")


@dataclass
class DecodeRequest:
    """One audio to recognise, inputs checked."""

    audio: np.ndarray  # float32, 16 kHz mono, at most WINDOW_SAMPLES
    language: str  # a Whisper language code, or "auto" to detect it
    task: str = "transcribe"
    prompt: str = ""
    max_alternatives: int = 1  # hypotheses to return, 1 to 10 (asr_contract.MAX_ALTERNATIVES)


def normalize_language(value: str, known: Sequence[str], tensor: str = "LANGUAGE") -> str:
    """Whisper language code from "ar", "ar-EG", "AR_sa"; "auto" for "auto" or ""."""
    v = value.strip().lower()
    if v in ("", "auto"):
        return "auto"
    code = re.split(r"[-_]", v)[0]
    if code not in known:
        raise InputError(tensor, f'language "{value}" is not one whisper knows (e.g. ar, en, fr; or auto)')
    return code


def normalize_task(value: str | None) -> str:
    task = (value or "transcribe").strip().lower()
    if task not in TASKS:
        raise InputError("TASK", f'"{value}" is neither transcribe nor translate')
    return task


def check_audio(audio: np.ndarray, row: int) -> None:
    n = int(audio.size)
    if n == 0:
        raise InputError("AUDIO", "is empty")
    if n > WINDOW_SAMPLES:
        raise InputError(
            "AUDIO",
            f"{n / SAMPLE_RATE:.1f} s is longer than the 30 s that Whisper decodes in one window; cut it at pauses first",
        )
    finite = np.isfinite(audio)
    if not finite.all():
        raise InputError("AUDIO", f"sample {int(np.argmin(finite))} of row {row} is not a finite number")


def generate_groups(requests: Sequence[DecodeRequest]) -> list[tuple[str, str, int, list[int]]]:
    """(task, prompt, max_alternatives, indices): the requests one generate() call can decode together.

    transformers takes one task, one prompt and one num_return_sequences per call but a language per
    row, so rows are grouped by those three, in order of first appearance.
    """
    groups: dict[tuple[str, str, int], list[int]] = {}
    for i, request in enumerate(requests):
        groups.setdefault((request.task, request.prompt, request.max_alternatives), []).append(i)
    return [(task, prompt, n, indices) for (task, prompt, n), indices in groups.items()]


def hypothesis_text(sequence: Sequence[int], vocab: Vocabulary) -> str:
    """The text of one generated sequence as TRANSCRIPT writes it: its segments' texts, stripped, joined by spaces."""
    texts = (vocab.decode(segment.tokens).strip() for segment in parse_timestamped(sequence, vocab))
    return " ".join(text for text in texts if text)


def runner_up_texts(best: str, others: Sequence[str], limit: int) -> list[str]:
    """The distinct non-empty texts of `others` that differ from `best`, in order, at most `limit`.

    Beams often differ only in timestamp tokens, which give the same text; such a hypothesis is no
    alternative. This also makes a transformers version that repeats each row for
    num_return_sequences (and returns n copies of the best beam) give one hypothesis, not n equal ones.
    """
    out: list[str] = []
    for text in others:
        if text and text != best and text not in out and len(out) < limit:
            out.append(text)
    return out


# ---------------------------------------------------------------------------------------------
# The vocabulary


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level BPE alphabet, reversed: each printable stand-in character to its byte."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def piece_bytes(piece: str) -> bytes:
    """The bytes of a byte-level BPE token as the tokenizer spells it ("Ġhello" is b" hello")."""
    decoder = _byte_decoder()
    if all(c in decoder for c in piece):
        return bytes(decoder[c] for c in piece)
    return piece.encode("utf-8")  # not a byte-level piece (an added token): its text


@dataclass
class Vocabulary:
    """The token ids this module needs, and each text token's bytes."""

    token_bytes: Sequence[bytes]  # index: token id < eot
    eot: int
    sot: int
    no_timestamps: int
    timestamp_begin: int
    no_speech: int
    prev_sot: int
    language_ids: dict[str, int]  # "ar" -> id of <|ar|>
    task_ids: dict[str, int]  # "transcribe" -> id
    encode: Callable[[str], list[int]] = field(default=lambda text: [])  # text -> text token ids

    def is_text(self, token: int) -> bool:
        return token < self.eot

    def decode(self, tokens: Sequence[int]) -> str:
        return b"".join(self.token_bytes[t] for t in tokens).decode("utf-8", errors="replace")

    def prompt_ids(self, prompt: str, max_tokens: int = 223) -> list[int]:
        """<|startofprev|> and the prompt's last `max_tokens` tokens (openai-whisper keeps the tail)."""
        tokens = self.encode(" " + prompt.strip())
        return [self.prev_sot] + tokens[-max_tokens:]

    def alignment_prefix(self, language: str, task: str) -> list[int]:
        """The decoder prompt of the alignment pass: <|startoftranscript|><|ar|><|transcribe|><|notimestamps|>."""
        return [self.sot, self.language_ids[language], self.task_ids[task], self.no_timestamps]


# ---------------------------------------------------------------------------------------------
# Generated tokens to raw segments


@dataclass
class RawSegment:
    start: float | None  # seconds, from the opening timestamp token
    end: float | None  # seconds, from the closing timestamp token
    tokens: list[int]  # text tokens only


def parse_timestamped(sequence: Sequence[int], vocab: Vocabulary) -> list[RawSegment]:
    """Segments of one generated sequence.

    Works whether or not the sequence still holds the decoder prompt (transformers versions differ):
    everything up to the last <|startoftranscript|> is the prompt and is skipped, as are special
    tokens. A timestamp after text closes a segment; a timestamp before text opens one; text left
    open at <|endoftext|> (or the end) becomes a segment that ends with the audio.
    """
    tokens = list(sequence)
    if vocab.sot in tokens:
        tokens = tokens[len(tokens) - tokens[::-1].index(vocab.sot) :]
    segments: list[RawSegment] = []
    text: list[int] = []
    opened: float | None = None
    for token in tokens:
        if token == vocab.eot:
            break
        if token >= vocab.timestamp_begin:
            time = (token - vocab.timestamp_begin) / TIMESTAMPS_PER_SECOND
            if text:
                segments.append(RawSegment(start=opened, end=time, tokens=text))
                text, opened = [], None
            else:
                opened = time
        elif vocab.is_text(token):
            text.append(token)
    if text:
        segments.append(RawSegment(start=opened, end=None, tokens=text))
    return segments


# ---------------------------------------------------------------------------------------------
# Word times from the alignment heads' attention


def dtw(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cheapest monotone path through `cost` [tokens, frames]: (token index, frame index) per step.

    Each cell adds its cost to the cheapest of the cells diagonally before it, above it and left of
    it; ties and the back-trace follow openai-whisper's dtw_cpu. The row recurrence
    c[j] = min(a[j], m[j] + c[j-1]) is solved for a whole row at once with prefix sums and a running
    minimum, so the loop runs once per token instead of once per cell.
    """
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        row = cost[i - 1].astype(np.float64)
        best_above = np.minimum(acc[i - 1, :-1], acc[i - 1, 1:])  # diagonal, above; for columns 1..m
        through = row + best_above
        prefix = np.cumsum(row)
        # acc[i, j] = min over k <= j of (through[k] + sum(row[k+1..j])) = prefix[j] + min_k(through[k] - prefix[k])
        acc[i, 1:] = prefix + np.minimum.accumulate(through - prefix)
    # Back-trace with openai-whisper's preference: diagonal only when strictly cheapest, then up, else left.
    i, j = n, m
    tokens, frames = [], []
    while i > 0 or j > 0:
        tokens.append(i - 1)
        frames.append(j - 1)
        if i == 0:
            j -= 1
            continue
        if j == 0:
            i -= 1
            continue
        c0, c1, c2 = acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]
        if c0 < c1 and c0 < c2:
            i, j = i - 1, j - 1
        elif c1 < c0 and c1 < c2:
            i -= 1
        else:
            j -= 1
    return np.array(tokens[::-1]), np.array(frames[::-1])


def token_start_times(alignment: np.ndarray) -> np.ndarray:
    """Seconds at which each row of `alignment` [tokens, audio frames] starts (higher = more aligned)."""
    token_index, frame_index = dtw(-alignment)
    jumps = np.concatenate([[True], np.diff(token_index) > 0])
    return frame_index[jumps] / AUDIO_FRAMES_PER_SECOND


# ---------------------------------------------------------------------------------------------
# Segments and words


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def build_segments(
    raw: Sequence[RawSegment],
    vocab: Vocabulary,
    duration: float,
    token_probs: Sequence[float],
    token_starts: Sequence[float] | None,
    no_speech_prob: float,
) -> list[AsrSegment]:
    """The contract's segments of one audio.

    `token_probs` has one probability per text token of `raw`, in order; `token_starts` one start
    time per text token plus one for <|endoftext|> (a word ends where the next token starts), or
    None to spread words evenly over their segment.
    """
    out: list[AsrSegment] = []
    prev_end = 0.0
    at = 0  # index of the segment's first token among all text tokens
    for segment in raw:
        first = at
        at += len(segment.tokens)
        text = vocab.decode(segment.tokens).strip()
        if not text:
            continue
        start = _clamp(segment.start if segment.start is not None else prev_end, prev_end, duration)
        end = _clamp(segment.end if segment.end is not None else duration, start, duration)

        groups: list[list[int]] = []  # indices into the segment's tokens
        for k, token in enumerate(segment.tokens):
            if not groups or vocab.token_bytes[token][:1] == b" ":
                groups.append([k])
            else:
                groups[-1].append(k)
        words: list[AsrWord] = []
        word_end = start
        for g, group in enumerate(groups):
            word = vocab.decode([segment.tokens[k] for k in group]).strip()
            if not word:
                continue
            if token_starts is not None:
                ws, we = token_starts[first + group[0]], token_starts[first + group[-1] + 1]
            else:
                ws = start + (end - start) * g / len(groups)
                we = start + (end - start) * (g + 1) / len(groups)
            ws = _clamp(ws, max(start, word_end), end)
            we = _clamp(we, ws, end)
            word_end = we
            p = sum(_clamp(token_probs[first + k], 0, 1) for k in group) / len(group)
            words.append(AsrWord(word=word, start=js_round(ws, 3), end=js_round(we, 3), probability=js_round(p, 4)))
        probs = [token_probs[first + k] for k in range(len(segment.tokens))]
        logprob = sum(math.log(_clamp(p, 1e-10, 1)) for p in probs) / len(probs)
        out.append(
            AsrSegment(
                start=js_round(start, 3),
                end=js_round(end, 3),
                text=text,
                avg_logprob=js_round(logprob, 4),
                no_speech_prob=js_round(no_speech_prob, 4),
                words=words,
            )
        )
        prev_end = end
    return out


def build_result(
    request: DecodeRequest,
    language: str,
    raw: Sequence[RawSegment],
    vocab: Vocabulary,
    token_probs: Sequence[float],
    token_starts: Sequence[float] | None,
    no_speech_prob: float,
) -> AsrResult:
    duration = len(request.audio) / SAMPLE_RATE
    return AsrResult(
        language=language,
        duration=js_round(duration, 3),
        segments=build_segments(raw, vocab, duration, token_probs, token_starts, no_speech_prob),
    )
