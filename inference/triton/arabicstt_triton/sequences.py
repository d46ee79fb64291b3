"""Per-sequence state of a model that declares sequence batching (config.pbtxt `sequence_batching`).

Triton's sequence batcher hands the model the controls the config names: START (1 on a sequence's
first request), END (1 on its last) and CORRID (its correlation id). The model keeps what it needs
of each sequence between requests, by correlation id; START (re)starts it, END frees it, and one idle
past max_sequence_idle_microseconds (which Triton ends without telling the model) is dropped at the
next request. The local sidecar does the same from the request parameters
(inference/local/models/sequences.ts).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

import numpy as np

from .triton_io import InputError, input_array

State = TypeVar("State")

# Triton's default when the config leaves max_sequence_idle_microseconds out: one second.
_DEFAULT_IDLE_SECONDS = 1.0
_DEFAULT_MAX_SEQUENCES = 4096


@dataclass
class SequenceControl:
    key: int
    start: bool
    end: bool


def sequence_limits(config: dict) -> tuple[float, int] | None:
    """(idle seconds, most sequences) of a model that declares sequence batching; None otherwise."""
    batching = config.get("sequence_batching")
    if not isinstance(batching, dict):
        return None
    idle_us = int(batching.get("max_sequence_idle_microseconds") or 0)
    candidates = int((batching.get("oldest") or {}).get("max_candidate_sequences") or 0)
    return (idle_us / 1e6 if idle_us > 0 else _DEFAULT_IDLE_SECONDS, candidates if candidates > 0 else _DEFAULT_MAX_SEQUENCES)


def sequence_control(request: Any) -> SequenceControl | None:
    """The controls Triton set on the request; None when it carries none (a request outside any sequence)."""
    corrid = input_array(request, "CORRID")
    if corrid is None:
        return None

    def flag(name: str) -> bool:
        value = input_array(request, name)
        return value is not None and bool(np.asarray(value).reshape(-1)[0])

    return SequenceControl(key=int(np.asarray(corrid).reshape(-1)[0]), start=flag("START"), end=flag("END"))


class SequenceStates(Generic[State]):
    """The state of each sequence in progress, by correlation id, least recently used first."""

    def __init__(self, idle_seconds: float, max_sequences: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._idle = idle_seconds
        self._max = max_sequences
        self._clock = clock
        self._states: OrderedDict[int, tuple[State, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def release(self, control: SequenceControl) -> None:
        """Ends the sequence, if held: a sequence of one request (START and END) takes no slot."""
        self._states.pop(control.key, None)

    def take(self, control: SequenceControl, create: Callable[[], State]) -> State:
        """The sequence's state: `create()`d at its start, else the one held. Dropped after its END."""
        now = self._clock()
        while self._states:
            key, (_, used) = next(iter(self._states.items()))
            if now - used <= self._idle:
                break
            del self._states[key]
        held = self._states.pop(control.key, None)
        if control.start:
            if held is None and len(self._states) >= self._max:
                raise InputError("CORRID", f"{len(self._states)} sequences are in progress, the most the model holds")
            state = create()
        elif held is not None:
            state = held[0]
        else:
            raise InputError("CORRID", "names no sequence in progress (never started, ended, or idle too long): its first request must set START")
        if not control.end:
            self._states[control.key] = (state, now)
        return state
