"""Batched Whisper on PyTorch and Hugging Face transformers: audio rows in, ASR results out.

Used by the Triton backend (whisper/model.py) and by bench_whisper.py. torch and transformers are
imported when a recognizer is built, never when this module is imported.

One call of `recognize` decodes a whole Triton batch:

  1. log-mel features of every row, each padded to Whisper's 30 s window (WhisperFeatureExtractor);
  2. one encoder pass for the batch;
  3. language detection (one decoder step) for the rows that asked for "auto";
  4. generate() with timestamps, once per (task, prompt, max_alternatives) group of rows: transformers
     takes one task and one prompt per call, but a language per row, so rows without a prompt (the
     batch pipeline) share a call while live sessions that send their confirmed text as a prompt get
     one each; rows that ask for n hypotheses are decoded with at least n beams and
     num_return_sequences=n, the best giving the result and the others only their text;
  5. one teacher-forced decoder pass over the recognised text, as openai-whisper's word timing does:
     its logits give each token's probability and the no-speech probability, its cross-attention in
     the alignment heads gives each token's start time by dynamic time warping;
  6. segments and words (whisper_segments.build_result).

Only public transformers API is used (from_pretrained, the encoder and decoder modules, proj_out,
generate with encoder_outputs/language/task/prompt_ids/return_timestamps), written against 4.46 (the
version requirements.txt pins). Where versions differ it degrades rather than fails: generate() gets
the features when it will not take encoder_outputs, words are spread evenly when the decoder returns no
cross-attention weights, and the token layout of generate's output is parsed defensively
(whisper_segments.parse_timestamped).
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .asr_contract import AsrResult
from .whisper_segments import (
    HOP_SAMPLES,
    SAMPLE_RATE,
    WHISPER_LANGUAGES,
    DecodeRequest,
    Vocabulary,
    build_result,
    generate_groups,
    hypothesis_text,
    parse_timestamped,
    piece_bytes,
    runner_up_texts,
    token_start_times,
)

MEDIAN_FILTER_WIDTH = 7


def group_sequences(sequences: list[list[int]], rows: int) -> list[list[list[int]]]:
    """generate()'s output rows, `rows` * n of them row by row, as n sequences per input row."""
    if rows == 0 or len(sequences) % rows != 0:
        raise RuntimeError(f"whisper: generate() returned {len(sequences)} sequences for {rows} rows")
    n = len(sequences) // rows
    return [sequences[r * n : (r + 1) * n] for r in range(rows)]


@dataclass
class RecognizerOptions:
    num_beams: int = 1
    word_timestamps: bool = True
    # Cross-attention weights the alignment pass may hold at once; rows are scored in chunks under it.
    alignment_memory_bytes: int = 1 << 30
    # Extra generate() arguments (the benchmark fixes the number of new tokens with these).
    generate_kwargs: dict[str, Any] = field(default_factory=dict)
    # Time each stage of recognize() into `last_timings` (synchronises the GPU between stages).
    profile: bool = False


def vocabulary_from(tokenizer: Any, generation_config: Any) -> Vocabulary:
    """The Vocabulary of a Hugging Face Whisper tokenizer and generation config."""
    eot = int(generation_config.eos_token_id)
    pieces = tokenizer.convert_ids_to_tokens(list(range(eot)))
    no_timestamps = int(generation_config.no_timestamps_token_id)
    prev_sot = getattr(generation_config, "prev_sot_token_id", None)
    if prev_sot is None:
        prev_sot = tokenizer.convert_tokens_to_ids("<|startofprev|>")
    return Vocabulary(
        token_bytes=[piece_bytes(p) for p in pieces],
        eot=eot,
        sot=int(generation_config.decoder_start_token_id),
        no_timestamps=no_timestamps,
        timestamp_begin=no_timestamps + 1,
        no_speech=no_timestamps - 1,
        prev_sot=int(prev_sot),
        language_ids={k.strip("<|>"): int(v) for k, v in generation_config.lang_to_id.items()},
        task_ids={k: int(v) for k, v in generation_config.task_to_id.items()},
        encode=lambda text: tokenizer(text, add_special_tokens=False).input_ids,
    )


class WhisperRecognizer:
    def __init__(self, model: Any, feature_extractor: Any, vocab: Vocabulary, options: RecognizerOptions | None = None):
        import torch

        self.torch = torch
        self.model = model.eval()
        self.feature_extractor = feature_extractor
        self.vocab = vocab
        self.options = options or RecognizerOptions()
        self.device = next(model.parameters()).device
        self.dtype = next(model.parameters()).dtype
        heads = getattr(model.generation_config, "alignment_heads", None)
        self.alignment_heads: list[tuple[int, int]] = [(int(l), int(h)) for l, h in heads] if heads else []
        self._align = self.options.word_timestamps and bool(self.alignment_heads)
        self._pad = getattr(model.generation_config, "pad_token_id", None)
        self._extractor_takes_device = "device" in inspect.signature(feature_extractor.__call__).parameters
        self._generate_from_encoder = True
        self.last_timings: dict[str, float] = {}

    @classmethod
    def from_pretrained(cls, source: str, device: str, local_files_only: bool, options: RecognizerOptions | None = None):
        """A checkpoint directory or hub id: fp16 with SDPA attention on a GPU, fp32 on CPU."""
        import torch
        from transformers import AutoTokenizer, WhisperFeatureExtractor, WhisperForConditionalGeneration

        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        model = WhisperForConditionalGeneration.from_pretrained(
            source, torch_dtype=dtype, attn_implementation="sdpa", local_files_only=local_files_only
        ).to(device)
        extractor = WhisperFeatureExtractor.from_pretrained(source, local_files_only=local_files_only)
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_files_only)
        return cls(model, extractor, vocabulary_from(tokenizer, model.generation_config), options)

    @property
    def languages(self) -> list[str]:
        """The language codes this checkpoint knows."""
        known = set(self.vocab.language_ids)
        return [code for code in WHISPER_LANGUAGES if code in known] or list(known)

    # -----------------------------------------------------------------------------------------

    def recognize(self, requests: Sequence[DecodeRequest]) -> list[AsrResult]:
        torch = self.torch
        if not requests:
            return []
        clock = _StageClock(torch, self.device if self.options.profile else None)
        with torch.inference_mode():
            features = self._features([r.audio for r in requests])
            clock.lap("features")
            encoded = self.model.model.encoder(features).last_hidden_state
            languages = [r.language for r in requests]
            auto = [i for i, language in enumerate(languages) if language == "auto"]
            if auto:
                for i, language in zip(auto, self._detect_languages(encoded[auto])):
                    languages[i] = language
            clock.lap("encoder")
            sequences: list[list[int]] = [[] for _ in requests]
            others: list[list[list[int]]] = [[] for _ in requests]
            for task, prompt, n, indices in generate_groups(requests):
                generated = self._generate(features, encoded, indices, [languages[i] for i in indices], task, prompt, n)
                for row, i in enumerate(indices):
                    sequences[i], *others[i] = generated[row]
            clock.lap("generate")
            raws = [parse_timestamped(seq, self.vocab) for seq in sequences]
            text_tokens = [[t for segment in raw for t in segment.tokens] for raw in raws]
            frames = [len(r.audio) // HOP_SAMPLES for r in requests]
            scores = self._score(encoded, languages, [r.task for r in requests], text_tokens, frames)
        results = [
            build_result(request, languages[i], raws[i], self.vocab, probs, starts, no_speech)
            for i, (request, (probs, starts, no_speech)) in enumerate(zip(requests, scores))
        ]
        for result, request, rest in zip(results, requests, others):
            best = " ".join(segment.text for segment in result.segments)
            result.alternatives = runner_up_texts(best, [hypothesis_text(seq, self.vocab) for seq in rest], request.max_alternatives - 1)
        clock.lap("words")
        self.last_timings = {**clock.laps, "text_tokens": float(sum(len(t) for t in text_tokens))}
        return results

    def _features(self, audio: list[np.ndarray]):
        kwargs: dict[str, Any] = {"sampling_rate": SAMPLE_RATE, "return_tensors": "pt"}
        if self._extractor_takes_device:
            kwargs["device"] = str(self.device)  # STFT on the GPU when it has one
        features = self.feature_extractor(audio, **kwargs).input_features
        return features.to(self.device, self.dtype)

    def _decoder_logits(self, input_ids, encoded, output_attentions: bool = False):
        out = self.model.model.decoder(
            input_ids=input_ids,
            encoder_hidden_states=encoded,
            output_attentions=output_attentions,
            use_cache=False,
            return_dict=True,
        )
        return self.model.proj_out(out.last_hidden_state), out

    def _detect_languages(self, encoded) -> list[str]:
        torch = self.torch
        sot = torch.full((encoded.shape[0], 1), self.vocab.sot, dtype=torch.long, device=self.device)
        logits, _ = self._decoder_logits(sot, encoded)
        codes = list(self.vocab.language_ids)
        ids = torch.tensor([self.vocab.language_ids[c] for c in codes], device=self.device)
        best = logits[:, 0, ids].argmax(dim=-1).tolist()
        return [codes[b] for b in best]

    def _generate(
        self, features, encoded, indices: list[int], languages: list[str], task: str, prompt: str, alternatives: int = 1
    ) -> list[list[list[int]]]:
        """Per row of `indices`: its generated sequences, best first (one unless `alternatives` > 1)."""
        torch = self.torch
        kwargs: dict[str, Any] = dict(self.options.generate_kwargs)
        kwargs.update(language=languages, task=task, return_timestamps=True)
        beams = max(self.options.num_beams, alternatives)
        if beams > 1:
            kwargs["num_beams"] = beams
        if alternatives > 1:
            # Beam search returns its n best finished beams per row, best first, row by row.
            kwargs["num_return_sequences"] = alternatives
        if prompt:
            kwargs["prompt_ids"] = torch.tensor(self.vocab.prompt_ids(prompt), dtype=torch.long, device=self.device)
        rows = torch.tensor(indices, device=self.device)
        if self._generate_from_encoder:
            # Hand generate() the encoder output already computed, so the encoder runs once per batch.
            from transformers.modeling_outputs import BaseModelOutput

            try:
                output = self.model.generate(encoder_outputs=BaseModelOutput(last_hidden_state=encoded[rows]), **kwargs)
            except (TypeError, ValueError, AttributeError) as err:
                # Raises again when the problem was not encoder_outputs.
                output = self.model.generate(input_features=features[rows], **kwargs)
                self._generate_from_encoder = False
                _warn(f"whisper: generate() did not take encoder_outputs ({err}); passing features from now on")
        else:
            output = self.model.generate(input_features=features[rows], **kwargs)
        sequences = [row.tolist() for row in (output if isinstance(output, torch.Tensor) else output["sequences"])]
        # Rows shorter than the longest are padded; a checkpoint whose pad token is not <|endoftext|>
        # would otherwise leave text tokens after the last segment.
        for sequence in sequences:
            while self._pad is not None and sequence and sequence[-1] == self._pad:
                sequence.pop()
        return group_sequences(sequences, len(indices))

    def _score(self, encoded, languages: list[str], tasks: list[str], text_tokens: list[list[int]], frames: list[int]):
        """Per row: (probability of each text token, start time of each token and of <|endoftext|> or None, no-speech probability)."""
        torch = self.torch
        vocab = self.vocab
        sequences = [vocab.alignment_prefix(lang, task) + tokens + [vocab.eot] for lang, task, tokens in zip(languages, tasks, text_tokens)]
        longest = max(len(s) for s in sequences)
        # Padded on the right with <|endoftext|>: causal attention keeps it out of every real position.
        ids = torch.tensor([s + [vocab.eot] * (longest - len(s)) for s in sequences], dtype=torch.long, device=self.device)
        align = self._align
        config = self.model.config
        per_row = config.decoder_layers * config.decoder_attention_heads * longest * encoded.shape[1] * encoded.element_size()
        chunk = max(1, self.options.alignment_memory_bytes // max(per_row, 1)) if align else len(sequences)
        prefix = 4
        results = []
        for at in range(0, len(sequences), chunk):
            rows = slice(at, at + chunk)
            logits, out = self._decoder_logits(ids[rows], encoded[rows], output_attentions=align)
            cross = getattr(out, "cross_attentions", None) if align else None
            if align and (not cross or any(c is None for c in cross)):
                _warn("whisper: the decoder returned no cross-attention weights; words are spread evenly over segments")
                self._align = align = False
                cross = None
            for k, tokens in enumerate(text_tokens[rows]):
                row_logits = logits[k].float()
                n = len(tokens)
                # Position p predicts token p + 1; text probabilities over the text vocabulary, as openai-whisper.
                text_probs = row_logits[prefix - 1 : prefix - 1 + n, : vocab.eot].softmax(dim=-1)
                picked = text_probs[torch.arange(n, device=self.device), torch.tensor(tokens, dtype=torch.long, device=self.device)]
                no_speech = row_logits[0].softmax(dim=-1)[vocab.no_speech].item()
                starts = None
                audio_frames = frames[at + k] // 2
                if cross is not None and n > 0 and audio_frames > 0:
                    starts = self._token_starts(cross, k, prefix + n + 1, audio_frames, prefix, n)
                results.append((picked.tolist(), starts, no_speech))
        return results

    def _token_starts(self, cross, k: int, length: int, audio_frames: int, prefix: int, n: int) -> list[float]:
        """openai-whisper's find_alignment on one row's cross-attention."""
        torch = self.torch
        weights = torch.stack([cross[layer][k, head, :length, :audio_frames] for layer, head in self.alignment_heads]).float()
        # The weights are a softmax over all 1500 frames; renormalised over the audio's frames they are
        # the softmax over those frames alone.
        weights = weights / weights.sum(dim=-1, keepdim=True).clamp_min(1e-12)
        std, mean = torch.std_mean(weights, dim=-2, keepdim=True, correction=0)
        weights = (weights - mean) / std.clamp_min(1e-12)
        weights = _median_filter(torch, weights, MEDIAN_FILTER_WIDTH)
        # Rows from <|notimestamps|> (predicting the first text token) to the last text token (predicting <|endoftext|>).
        matrix = weights.mean(dim=0)[prefix - 1 : prefix + n]
        return token_start_times(matrix.cpu().double().numpy()).tolist()


class _StageClock:
    """Seconds per stage, the GPU synchronised at each lap; does nothing without a device."""

    def __init__(self, torch: Any, device: Any):
        import time

        self.torch, self.device, self.now = torch, device, time.perf_counter
        self.laps: dict[str, float] = {}
        self.last = self.now()

    def lap(self, name: str) -> None:
        if self.device is None:
            return
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)
        now = self.now()
        self.laps[name] = now - self.last
        self.last = now


def _median_filter(torch: Any, x, width: int):
    """Median over a sliding window of `width` along the last dimension, edges reflected."""
    pad = width // 2
    if x.shape[-1] <= pad:
        return x
    padded = torch.nn.functional.pad(x, (pad, pad), mode="reflect")
    return padded.unfold(-1, width, 1).sort(dim=-1).values[..., pad]


def _warn(message: str) -> None:
    from .triton_io import log

    log("warn", message)


def resolve_source(env: Mapping[str, str], config_model: str | None, version_dir: str | None, weights_dir: str) -> tuple[str, bool]:
    """(checkpoint directory or hub id, whether it may be downloaded); see inference/triton/README.md.

    WHISPER_MODEL (env), else the config parameter `hf_model`, else the model's version directory or
    <MODEL_WEIGHTS_DIR>/whisper/hf when it holds a checkpoint, else the hub id DEFAULT_MODEL_ID from the
    Hugging Face cache (HF_HOME), fetched only when WHISPER_DOWNLOAD=1.
    """
    download = (env.get("WHISPER_DOWNLOAD") or "").strip().lower() in ("1", "true", "yes", "on")
    named = env.get("WHISPER_MODEL") or config_model
    if named:
        return named, download and not os.path.isdir(named)
    for local in (version_dir, os.path.join(weights_dir, "whisper", "hf")):
        if local and os.path.isfile(os.path.join(local, "config.json")):
            return local, False
    return DEFAULT_MODEL_ID, download


DEFAULT_MODEL_ID = "openai/whisper-large-v3-turbo"
