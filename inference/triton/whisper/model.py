"""Triton Python backend of `whisper` (inference/models/whisper/config.pbtxt): the platform's ASR contract on GPU.

  in   AUDIO      FP32  [B, N]  16 kHz mono in [-1, 1], N at most 30 s (ragged: each request its own N)
       LANGUAGE   BYTES [B, 1]  optional: "ar", "ar-EG" (region dropped), "auto"/"" detects
       TASK       BYTES [B, 1]  optional: "transcribe" (default) | "translate" (to English)
       PROMPT     BYTES [B, 1]  optional: text that conditions the decoder (a request's phrase hints,
                                then the live engine's confirmed text); its last 223 tokens are kept
       MAX_ALTERNATIVES INT32 [B, 1] optional: hypotheses to return, 1 (default) to 10; n > 1 decodes
                                with at least n beams
  out  TRANSCRIPT BYTES [B, 1]  the text
       SEGMENTS   BYTES [B, 1]  JSON {"language","duration","segments":[{"start","end","text",
                                "avg_logprob","no_speech_prob","words":[{"word","start","end","probability"}]}]}
       ALTERNATIVES BYTES [B, 1] JSON array of texts, best first: TRANSCRIPT, then up to
                                MAX_ALTERNATIVES - 1 distinct runner-up beams (text only)

LANGUAGE/TASK/PROMPT/MAX_ALTERNATIVES may also come as request parameters (`language`, `task`,
`prompt`, `max_alternatives`); an input
tensor wins. The JSON is the local sidecar's (inference/local/models/whisper.ts), byte for byte in
form; the numbers come from this model, not whisper.cpp. Unlike whisper.cpp 1.6, no_speech_prob is
the model's probability of <|nospeech|>, not 0.

Hugging Face transformers' WhisperForConditionalGeneration, fp16 with SDPA attention on the GPU of
this instance; the rows of a dynamic batch are decoded together (arabicstt_triton.whisper_recognizer).

Weights (inference/triton/README.md has the commands):
  WHISPER_MODEL           a checkpoint directory or a Hugging Face hub id; else
  config parameter hf_model  the same; else
  the version directory, or <MODEL_WEIGHTS_DIR>/whisper/hf, when it holds a checkpoint (config.json); else
  openai/whisper-large-v3-turbo from the Hugging Face cache (HF_HOME), fetched there only with
                          WHISPER_DOWNLOAD=1.
Other settings: WHISPER_BEAM_SIZE (1: greedy), WHISPER_WORD_TIMESTAMPS (1; 0 spreads words evenly),
config parameter default_language ("auto").
"""

import os
import sys
from pathlib import Path

_LIBRARY = str(Path(__file__).resolve().parent.parent)
if _LIBRARY not in sys.path:
    sys.path.insert(0, _LIBRARY)

from arabicstt_triton.asr_contract import asr_outputs, request_items  # noqa: E402
from arabicstt_triton.triton_io import (  # noqa: E402
    config_parameter,
    instance_device,
    is_batched,
    log,
    model_config,
    serve,
)
from arabicstt_triton.weights import DEFAULT_WEIGHTS_DIR, version_dir  # noqa: E402
from arabicstt_triton.whisper_segments import (  # noqa: E402
    DecodeRequest,
    check_audio,
    normalize_language,
    normalize_task,
)


def _flag(value, default):
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


class TritonPythonModel:
    def initialize(self, args):
        import torch

        from arabicstt_triton.whisper_recognizer import RecognizerOptions, WhisperRecognizer, resolve_source

        config = model_config(args)
        self.name = config.get("name", "whisper")
        self.batched = is_batched(config)
        self.default_language = config_parameter(config, "default_language") or "auto"
        kind, device_id = instance_device(args)
        device = f"cuda:{device_id}" if kind == "GPU" and torch.cuda.is_available() else "cpu"
        if kind == "GPU" and device == "cpu":
            log("warn", f"{self.name}: a GPU instance without a CUDA device; running on CPU")
        weights_dir = os.environ.get("MODEL_WEIGHTS_DIR") or DEFAULT_WEIGHTS_DIR
        source, may_download = resolve_source(os.environ, config_parameter(config, "hf_model"), version_dir(args), weights_dir)
        options = RecognizerOptions(
            num_beams=max(1, int(os.environ.get("WHISPER_BEAM_SIZE") or 1)),
            word_timestamps=_flag(os.environ.get("WHISPER_WORD_TIMESTAMPS"), True),
        )
        try:
            self.recognizer = WhisperRecognizer.from_pretrained(source, device, local_files_only=not may_download, options=options)
        except OSError as err:
            raise RuntimeError(
                f"cannot load whisper from {source!r}: {err}. Put a transformers checkpoint in "
                f"{weights_dir}/whisper/hf (e.g. `huggingface-cli download openai/whisper-large-v3-turbo "
                f"--local-dir data/models/whisper/hf` on a machine with internet), or set WHISPER_MODEL to a "
                f"checkpoint directory, or set WHISPER_DOWNLOAD=1 to fetch {source} into HF_HOME at start"
            ) from err
        self.languages = self.recognizer.languages
        if self.default_language != "auto":
            normalize_language(self.default_language, self.languages, "default_language")
        log(
            "info",
            f"{self.name}: {source} on {device} ({self.recognizer.dtype}), alignment heads: "
            f"{len(self.recognizer.alignment_heads) or 'none, words spread evenly'}",
        )

    def execute(self, requests):
        return serve(requests, self.name, parse=self.decode_requests, infer=self.recognizer.recognize, render=self.render)

    def decode_requests(self, request):
        out = []
        for row, item in enumerate(request_items(request, self.batched)):
            check_audio(item.audio, row)
            out.append(
                DecodeRequest(
                    audio=item.audio.copy(),
                    language=normalize_language(item.language or self.default_language, self.languages),
                    task=normalize_task(item.task),
                    prompt=item.prompt or "",
                    max_alternatives=item.max_alternatives,
                )
            )
        return out

    def render(self, results):
        return asr_outputs(results, self.batched)

    def finalize(self):
        self.recognizer = None
