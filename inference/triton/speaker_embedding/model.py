"""Triton Python backend of `speaker_embedding` (inference/models/speaker_embedding/config.pbtxt).

An ECAPA-TDNN style ONNX export on onnxruntime (CUDA when the instance is a GPU one and onnxruntime
can use it, else CPU), one embedding per speech segment, as inference/local/models/speaker-embedding.ts.
The graph's first input says what it takes: rank 3 is fbank features [B, T, mel bins] (computed here
as Kaldi does, arabicstt_triton.fbank), rank 2 the waveform [B, N]. Its first output is the embedding.

Segments of a dynamic batch that have the same length run as one batch; others run one length at a
time, since padding would change what statistics pooling sees.

Weights are not bundled: the config's `onnx_model` ("speaker_embedding/model.onnx") is looked for as
arabicstt_triton.weights describes (the version directory, then MODEL_WEIGHTS_DIR).
"""

import sys
from pathlib import Path

_LIBRARY = str(Path(__file__).resolve().parent.parent)
if _LIBRARY not in sys.path:
    sys.path.insert(0, _LIBRARY)

import numpy as np  # noqa: E402

from arabicstt_triton.fbank import FbankOptions, fbank  # noqa: E402
from arabicstt_triton.triton_io import (  # noqa: E402
    InputError,
    config_parameter,
    input_array,
    instance_device,
    is_batched,
    log,
    model_config,
    numeric_parameter,
    output_dims,
    serve,
)
from arabicstt_triton.weights import find_weight, version_dir, weight_candidates  # noqa: E402


def same_length_groups(clips):
    """Indices of the clips, grouped by length (in order of first appearance)."""
    groups = {}
    for i, clip in enumerate(clips):
        groups.setdefault(len(clip), []).append(i)
    return list(groups.values())


class TritonPythonModel:
    def initialize(self, args):
        config = model_config(args)
        self.name = config.get("name", "speaker_embedding")
        self.batched = is_batched(config)
        self.sample_rate = int(numeric_parameter(config, "sample_rate", 16000))
        self.min_samples = int(numeric_parameter(config, "min_samples", 8000))
        self.mel_bins = int(numeric_parameter(config, "num_mel_bins", 80))
        self.embedding_size = output_dims(config, "EMBEDDING")[0]
        relative = config_parameter(config, "onnx_model") or f"{self.name}/model.onnx"
        path = find_weight(relative, version_dir(args))
        if path is None:
            tried = ", ".join(str(p) for p in weight_candidates(relative, version_dir(args)))
            raise FileNotFoundError(
                f"no speaker embedding model: looked for {tried}. Export an ECAPA-TDNN speaker model to ONNX "
                f"(input fbank [B, T, {self.mel_bins}] or waveform [B, N] at {self.sample_rate} Hz, output "
                f"[B, {self.embedding_size}]) and put it at <MODEL_WEIGHTS_DIR>/{relative}"
            )
        import onnxruntime as ort

        kind, device_id = instance_device(args)
        providers = ["CPUExecutionProvider"]
        if kind == "GPU" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": device_id}))
        elif kind == "GPU":
            log("warn", f"{self.name}: onnxruntime has no CUDA provider here; running on CPU")
        self.session = ort.InferenceSession(str(path), providers=providers)
        first = self.session.get_inputs()[0]
        self.input_name = first.name
        self.output_name = self.session.get_outputs()[0].name
        if len(first.shape) == 3:
            if isinstance(first.shape[2], int) and first.shape[2] != self.mel_bins:
                raise ValueError(f"{path}: its input takes {first.shape[2]} mel bins, the config says {self.mel_bins}")
            self.takes_features = True
        elif len(first.shape) == 2:
            self.takes_features = False
        else:
            raise ValueError(f"{path}: its first input has rank {len(first.shape)}; expected [B, T, {self.mel_bins}] features or a [B, N] waveform")
        self.fbank_options = FbankOptions(sample_rate=self.sample_rate, num_mel_bins=self.mel_bins)
        log("info", f"{self.name}: {path} on {self.session.get_providers()[0]}, input {'fbank' if self.takes_features else 'waveform'}")

    def execute(self, requests):
        return serve(requests, self.name, parse=self.segments, infer=self.embed, render=self.render)

    def segments(self, request):
        audio = input_array(request, "AUDIO")
        if audio is None or audio.dtype != np.float32:
            raise InputError("AUDIO", "missing or not FP32")
        expected = 2 if self.batched else 1
        if audio.ndim != expected:
            raise InputError("AUDIO", f"has shape {list(audio.shape)}; this model takes {'[batch, samples]' if self.batched else '[samples]'}")
        rows = [audio[r] for r in range(audio.shape[0])] if self.batched else [audio]
        length = len(rows[0]) if rows else self.min_samples
        if length < self.min_samples:
            raise InputError(
                "AUDIO",
                f"a segment of {length} samples is too short to embed; it takes at least {self.min_samples} "
                f"({self.min_samples / self.sample_rate:g} s)",
            )
        return rows

    def embed(self, clips):
        out = [None] * len(clips)
        for group in same_length_groups(clips):
            if self.takes_features:
                feed = np.stack([fbank(clips[i], self.fbank_options) for i in group])
            else:
                feed = np.stack([clips[i] for i in group]).astype(np.float32)
            (embedding,) = self.session.run([self.output_name], {self.input_name: feed})
            embedding = np.asarray(embedding)
            if embedding.dtype != np.float32 or embedding.size != len(group) * self.embedding_size:
                raise ValueError(
                    f"the speaker model returned {embedding.dtype} {list(embedding.shape)}, not float32 [{len(group)}, {self.embedding_size}]"
                )
            for row, i in zip(embedding.reshape(len(group), self.embedding_size), group):
                out[i] = row
        return out

    def render(self, embeddings):
        stacked = np.stack(embeddings).astype(np.float32) if embeddings else np.zeros((0, self.embedding_size), np.float32)
        return {"EMBEDDING": stacked if self.batched else stacked[0]}

    def finalize(self):
        self.session = None
