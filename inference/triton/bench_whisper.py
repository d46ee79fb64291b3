#!/usr/bin/env python3
"""Throughput of the whisper backend's batched path on a GPU, with random weights: nothing is downloaded.

Builds a Whisper of a real size (large-v3 by default) with random weights, wraps it in the very
recognizer the Triton backend runs (arabicstt_triton.whisper_recognizer: features, encoder, batched
generate with timestamps, alignment pass, segments and words), and times `recognize` on batches of
1, 4 and 8 rows of noise. Random weights say nothing about accuracy, and left alone they decode to
the 448-token limit, so every row is made to generate exactly --new-tokens tokens (about what 30 s
of speech takes); the table is then the cost of that work, comparable across GPUs and settings.

    python3 inference/triton/bench_whisper.py                          # large-v3, fp16, batches 1 4 8
    python3 inference/triton/bench_whisper.py --size large-v3-turbo --batches 1,8,16 --json out.json

Needs PyTorch with CUDA and transformers (requirements.txt pins what the Triton image runs); runs
offline (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from arabicstt_triton.whisper_segments import SAMPLE_RATE, WHISPER_LANGUAGES, DecodeRequest, Vocabulary  # noqa: E402

# d_model, encoder layers, decoder layers, attention heads, feed-forward width, mel bins
SIZES = {
    "large-v3": (1280, 32, 32, 20, 5120, 128),
    "large-v3-turbo": (1280, 32, 4, 20, 5120, 128),
    "medium": (1024, 24, 24, 16, 4096, 80),
    "small": (768, 12, 12, 12, 3072, 80),
    "base": (512, 6, 6, 8, 2048, 80),
    "tiny-test": (64, 2, 2, 2, 128, 80),  # for tests on CPU
}
TEXT_VOCABULARY = 50257  # byte-level BPE tokens; <|endoftext|> comes next


def synthetic_vocabulary(languages: int) -> tuple[Vocabulary, int]:
    """Whisper's token layout (v3 when 100 languages) with made-up text tokens; and the vocabulary size."""
    eot = TEXT_VOCABULARY
    sot = eot + 1
    language_ids = {code: sot + 1 + i for i, code in enumerate(WHISPER_LANGUAGES[:languages])}
    translate = sot + 1 + languages
    transcribe, prev_sot, no_speech, no_timestamps = translate + 1, translate + 3, translate + 4, translate + 5
    timestamp_begin = no_timestamps + 1
    # Every fourth token starts a word, so segments have words to time.
    token_bytes = [(b" w" if i % 4 == 0 else b"") + str(i).encode() for i in range(eot)]
    vocab = Vocabulary(
        token_bytes=token_bytes,
        eot=eot,
        sot=sot,
        no_timestamps=no_timestamps,
        timestamp_begin=timestamp_begin,
        no_speech=no_speech,
        prev_sot=prev_sot,
        language_ids=language_ids,
        task_ids={"translate": translate, "transcribe": transcribe},
        encode=lambda text: [(sum(text.encode()) * 7 + i) % eot for i in range(len(text.split()))],
    )
    return vocab, timestamp_begin + 1501


def random_recognizer(size: str, device: str = "cuda", dtype_name: str = "fp16", new_tokens: int = 128, seed: int = 0, profile: bool = False):
    """A WhisperRecognizer around a random-weight Whisper of `size`."""
    import torch
    from transformers import GenerationConfig, WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

    from arabicstt_triton.whisper_recognizer import RecognizerOptions, WhisperRecognizer

    d_model, encoder_layers, decoder_layers, heads, ffn, mels = SIZES[size]
    vocab, vocab_size = synthetic_vocabulary(100 if mels == 128 else 99)
    config = WhisperConfig(
        vocab_size=vocab_size,
        num_mel_bins=mels,
        d_model=d_model,
        encoder_layers=encoder_layers,
        decoder_layers=decoder_layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=ffn,
        decoder_ffn_dim=ffn,
        max_source_positions=1500,
        max_target_positions=448,
        decoder_start_token_id=vocab.sot,
        eos_token_id=vocab.eot,
        bos_token_id=vocab.eot,
        pad_token_id=vocab.eot,
        begin_suppress_tokens=None,
        suppress_tokens=None,
    )
    config._attn_implementation = "sdpa"
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[dtype_name]
    torch.manual_seed(seed)
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = WhisperForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(default_dtype)
    # The upper half of the decoder's heads stand in for a checkpoint's alignment heads.
    alignment_heads = [[layer, head] for layer in range(decoder_layers // 2, decoder_layers) for head in range(0, heads, max(1, heads // 4))]
    model.generation_config = GenerationConfig(
        decoder_start_token_id=vocab.sot,
        eos_token_id=vocab.eot,
        pad_token_id=vocab.eot,
        bos_token_id=vocab.eot,
        max_length=448,
        is_multilingual=True,
        lang_to_id={f"<|{code}|>": token for code, token in vocab.language_ids.items()},
        task_to_id=dict(vocab.task_ids),
        no_timestamps_token_id=vocab.no_timestamps,
        prev_sot_token_id=vocab.prev_sot,
        max_initial_timestamp_index=50,
        alignment_heads=alignment_heads[:10],
        begin_suppress_tokens=[vocab.eot],
    )
    extractor = WhisperFeatureExtractor(feature_size=mels)
    options = RecognizerOptions(generate_kwargs={"max_new_tokens": new_tokens, "min_new_tokens": new_tokens}, profile=profile)
    return WhisperRecognizer(model, extractor, vocab, options)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="large-v3")
    parser.add_argument("--batches", default="1,4,8", help="batch sizes, comma-separated (the config's max_batch_size is 8)")
    parser.add_argument("--seconds", type=float, default=30.0, help="audio per row (at most 30)")
    parser.add_argument("--new-tokens", type=int, default=128, help="tokens each row generates")
    parser.add_argument("--language", default="ar", help='"auto" adds language detection')
    parser.add_argument("--prompt", default="", help="a prompt for every row (one generate call per batch either way)")
    parser.add_argument("--dtype", choices=["fp16", "bf16", "fp32"], default="fp16")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()

    import torch
    import transformers

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: this benchmark is for a GPU (try it with --device cpu --size tiny-test --dtype fp32)", file=sys.stderr)
        return 2
    if not 0 < args.seconds <= 30:
        parser.error("--seconds must be in (0, 30]")
    device = torch.device(args.device)
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    started = time.perf_counter()
    recognizer = random_recognizer(args.size, str(device), args.dtype, args.new_tokens, profile=True)
    built = time.perf_counter() - started
    params = sum(p.numel() for p in recognizer.model.parameters()) / 1e6
    print(
        f"whisper {args.size} ({params:.0f}M parameters, random weights), {args.dtype}, SDPA, on {gpu}; "
        f"torch {torch.__version__}, transformers {transformers.__version__}; built in {built:.1f} s"
    )
    print(f"{args.seconds:g} s of audio and {args.new_tokens} generated tokens per row, language {args.language}, {args.iters} timed runs after {args.warmup} warm-up")
    rng = np.random.default_rng(0)
    audio = (0.05 * rng.standard_normal(int(args.seconds * SAMPLE_RATE))).astype(np.float32)

    header = f"{'batch':>5} {'audio s':>8} {'wall s':>8} {'audio s/wall s':>15} {'features':>9} {'encoder':>8} {'generate':>9} {'words':>7} {'peak GiB':>9}"
    print(header)
    print("-" * len(header))
    rows = []
    for batch in [int(b) for b in args.batches.split(",") if b.strip()]:
        requests = [DecodeRequest(audio=audio, language=args.language, prompt=args.prompt) for _ in range(batch)]
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        for _ in range(args.warmup):
            recognizer.recognize(requests)
        walls, stages = [], []
        for _ in range(args.iters):
            t0 = time.perf_counter()
            recognizer.recognize(requests)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            walls.append(time.perf_counter() - t0)
            stages.append(dict(recognizer.last_timings))
        wall = statistics.median(walls)
        stage = {k: statistics.median(s[k] for s in stages) for k in ("features", "encoder", "generate", "words")}
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else 0.0
        row = {
            "batch": batch,
            "audio_seconds": batch * args.seconds,
            "wall_seconds": wall,
            "audio_seconds_per_wall_second": batch * args.seconds / wall,
            **{f"{k}_seconds": v for k, v in stage.items()},
            "peak_gib": peak,
        }
        rows.append(row)
        print(
            f"{batch:>5} {row['audio_seconds']:>8.1f} {wall:>8.3f} {row['audio_seconds_per_wall_second']:>15.1f} "
            f"{stage['features']:>9.3f} {stage['encoder']:>8.3f} {stage['generate']:>9.3f} {stage['words']:>7.3f} {peak:>9.2f}"
        )
    if args.json:
        meta = {"size": args.size, "dtype": args.dtype, "gpu": gpu, "torch": torch.__version__, "transformers": transformers.__version__}
        args.json.write_text(json.dumps({**meta, "seconds_per_row": args.seconds, "new_tokens": args.new_tokens, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
