"""Triton Python backend of `dtmf` (inference/models/dtmf/config.pbtxt): keypad tones behind the ASR contract.

Each key is a word with its tone's start and end; keys closer together than segment_gap_ms form one
segment whose text is the key string. Tuning comes from the config's parameters. numpy only, CPU.
The local sidecar serves the same model from inference/local/models/dtmf.ts.

The config declares sequence batching: a request of a sequence carries only the audio after the
sequence's previous request, and is answered with the keys of all of the sequence's audio so far,
timed from its first sample. This backend keeps each sequence's audio and detects over all of it,
which gives exactly those keys (the sidecar keeps the detector's state instead).
"""

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

# This file is linked into the served repository as <model>/1/model.py; the shared package sits
# next to its real location.
_LIBRARY = str(Path(__file__).resolve().parent.parent)
if _LIBRARY not in sys.path:
    sys.path.insert(0, _LIBRARY)

from arabicstt_triton.asr_contract import AsrItem, AsrResult, asr_outputs, js_round, request_items  # noqa: E402
from arabicstt_triton.dtmf_detector import DtmfOptions, detect_dtmf, dtmf_segments  # noqa: E402
from arabicstt_triton.sequences import SequenceStates, sequence_control, sequence_limits  # noqa: E402
from arabicstt_triton.triton_io import InputError, is_batched, model_config, numeric_parameter, serve  # noqa: E402


class TritonPythonModel:
    def initialize(self, args):
        config = model_config(args)
        self.name = config.get("name", "dtmf")
        self.batched = is_batched(config)
        defaults = DtmfOptions()

        def number(key, fallback):
            return numeric_parameter(config, key, fallback)

        self.options = DtmfOptions(
            sample_rate=number("sample_rate", defaults.sample_rate),
            frame_ms=number("frame_ms", defaults.frame_ms),
            hop_ms=number("hop_ms", defaults.hop_ms),
            min_tone_ms=number("min_tone_ms", defaults.min_tone_ms),
            min_level_dbfs=number("min_level_dbfs", defaults.min_level_dbfs),
            max_twist_db=number("max_twist_db", defaults.max_twist_db),
        )
        self.segment_gap = number("segment_gap_ms", 2000) / 1000
        limits = sequence_limits(config)
        self.sequences = SequenceStates(*limits) if limits else None

    def execute(self, requests):
        return serve(
            requests,
            self.name,
            parse=self.parse,
            infer=lambda items: [self.recognise(item) for item in items],
            render=lambda results: asr_outputs(results, self.batched),
        )

    def parse(self, request) -> list[AsrItem]:
        items = request_items(request, self.batched)
        control = sequence_control(request)
        if control is None or self.sequences is None:
            return items
        if control.start and control.end:
            # A sequence of one request: its audio is all there is.
            self.sequences.release(control)
            return items
        if len(items) != 1:
            raise InputError("AUDIO", "a request of a sequence carries one item")
        item = items[0]
        held = self.sequences.take(control, lambda: [])
        held.append(np.asarray(item.audio, dtype=np.float32).reshape(-1))
        return [replace(item, audio=np.concatenate(held))]

    def recognise(self, item: AsrItem) -> AsrResult:
        return AsrResult(
            language=item.language or "ar",
            duration=js_round(len(item.audio) / self.options.sample_rate, 3),
            segments=dtmf_segments(detect_dtmf(item.audio, self.options), self.segment_gap),
        )

    def finalize(self):
        pass
