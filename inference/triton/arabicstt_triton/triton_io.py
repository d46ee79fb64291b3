"""The Python backend's side of Triton: reading requests, answering them, and the model config.

`triton_python_backend_utils` (pb_utils) exists only inside Triton's Python backend stub, so it is
imported on first use, never at import time; tests put a stand-in module of the same name into
`sys.modules` first.

Every backend's `execute` goes through `serve`: each request is parsed on its own (a bad request gets
its own INVALID_ARG response and never fails the others of its batch), the rows of all good requests
run through the model together, and the results are cut back into one response per request.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any, Callable, Sequence, TypeVar

import numpy as np

_pb_utils = None

Item = TypeVar("Item")
Result = TypeVar("Result")


def pb_utils():
    """The `triton_python_backend_utils` module, imported on first use."""
    global _pb_utils
    if _pb_utils is None:
        import triton_python_backend_utils

        _pb_utils = triton_python_backend_utils
    return _pb_utils


class InputError(Exception):
    """A request input that is well-formed for Triton but cannot be processed: INVALID_ARG naming the tensor.

    The message reads as the sidecar's InferenceInputError: `AUDIO: is empty`.
    """

    def __init__(self, tensor: str, reason: str) -> None:
        super().__init__(f"{tensor}: {reason}")
        self.tensor = tensor


# ---------------------------------------------------------------------------------------------
# The model configuration (args["model_config"], config.pbtxt as JSON)


def model_config(args: dict) -> dict:
    return json.loads(args["model_config"])


def is_batched(config: dict) -> bool:
    """max_batch_size > 0: every tensor carries a leading batch dimension that `dims` omits."""
    return int(config.get("max_batch_size", 0)) > 0


def config_parameter(config: dict, key: str) -> str | None:
    """A `parameters` entry of config.pbtxt, or None when absent or empty."""
    value = config.get("parameters", {}).get(key, {}).get("string_value")
    return value if value else None


def numeric_parameter(config: dict, key: str, fallback: float) -> float:
    """A numeric `parameters` entry; `fallback` when absent; ValueError when present but not a number."""
    text = config.get("parameters", {}).get(key, {}).get("string_value")
    if text is None:
        return fallback
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if text.strip() == "" or not np.isfinite(value):
        raise ValueError(f'model {config.get("name", "?")}: parameter {key} must be a number (got "{text}")')
    return value


def output_dims(config: dict, name: str) -> list[int]:
    for output in config.get("output", []):
        if output.get("name") == name:
            return [int(d) for d in output.get("dims", [])]
    raise ValueError(f'model {config.get("name", "?")}: config.pbtxt declares no output {name}')


def instance_device(args: dict) -> tuple[str, int]:
    """("GPU" or "CPU", device id) of this model instance, from its instance_group."""
    return args.get("model_instance_kind", "CPU").upper(), int(args.get("model_instance_device_id", "0") or 0)


# ---------------------------------------------------------------------------------------------
# Requests


def input_array(request: Any, name: str) -> np.ndarray | None:
    """An input tensor as numpy (BYTES come as an object array of bytes), or None when not sent."""
    tensor = pb_utils().get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy()


def request_parameters(request: Any) -> dict:
    """The request's KServe v2 `parameters` (a JSON string in the Python backend)."""
    try:
        parsed = json.loads(request.parameters() or "{}")
    except (AttributeError, TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def is_cancelled(request: Any) -> bool:
    check = getattr(request, "is_cancelled", None)
    return bool(check()) if callable(check) else False


# ---------------------------------------------------------------------------------------------
# Responses


def error_response(message: str, code: str = "INTERNAL"):
    """An error response; `code` names a pb_utils.TritonError code (INVALID_ARG, UNAVAILABLE, …)."""
    pb = pb_utils()
    error_code = getattr(pb.TritonError, code, None)
    error = pb.TritonError(message) if error_code is None else pb.TritonError(message, error_code)
    return pb.InferenceResponse(output_tensors=[], error=error)


def tensor_response(outputs: dict[str, np.ndarray]):
    pb = pb_utils()
    return pb.InferenceResponse(output_tensors=[pb.Tensor(name, array) for name, array in outputs.items()])


def log(level: str, message: str) -> None:
    """Triton's log (level "info", "warn", "error", "verbose"); stderr outside Triton."""
    try:
        logger = pb_utils().Logger
    except ImportError:
        print(f"[{level}] {message}", file=sys.stderr)
        return
    getattr(logger, f"log_{level}", logger.log_info)(message)


# ---------------------------------------------------------------------------------------------
# One execute() call


def flatten(per_request: Sequence[Sequence[Item]]) -> tuple[list[Item], list[int]]:
    """The rows of every request in order, and how many each request contributed."""
    rows = [row for items in per_request for row in items]
    return rows, [len(items) for items in per_request]


def split(results: Sequence[Result], counts: Sequence[int]) -> list[list[Result]]:
    """`results` (one per row of `flatten`) cut back into one list per request."""
    if len(results) != sum(counts):
        raise ValueError(f"the model returned {len(results)} results for {sum(counts)} rows")
    out, at = [], 0
    for count in counts:
        out.append(list(results[at : at + count]))
        at += count
    return out


def serve(
    requests: Sequence[Any],
    model_name: str,
    parse: Callable[[Any], Sequence[Item]],
    infer: Callable[[list[Item]], Sequence[Result]],
    render: Callable[[list[Result]], dict[str, np.ndarray]],
) -> list:
    """One response per request: `parse` each, `infer` all rows at once, `render` each request's results.

    `parse` raises InputError for a bad request; `infer` failing fails every request of the batch
    (INTERNAL, details in Triton's log).
    """
    responses: list = [None] * len(requests)
    accepted: list[int] = []
    per_request: list[Sequence[Item]] = []
    for index, request in enumerate(requests):
        if is_cancelled(request):
            responses[index] = error_response(f'model "{model_name}": the request was cancelled', "CANCELLED")
            continue
        try:
            items = parse(request)
        except InputError as err:
            responses[index] = error_response(f'model "{model_name}" refused input {err}', "INVALID_ARG")
            continue
        accepted.append(index)
        per_request.append(items)
    rows, counts = flatten(per_request)
    try:
        results = infer(rows) if rows else []
        grouped = split(results, counts)
    except Exception as err:  # noqa: BLE001 - every failure must become a response, not a dead stub
        log("error", f"{model_name}: inference failed for {len(rows)} rows:\n{traceback.format_exc()}")
        for index in accepted:
            responses[index] = error_response(f'model "{model_name}" failed: {type(err).__name__}: {err}', "INTERNAL")
        return responses
    for index, request_results in zip(accepted, grouped):
        responses[index] = tensor_response(render(request_results))
    return responses
