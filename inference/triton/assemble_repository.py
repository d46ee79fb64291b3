#!/usr/bin/env python3
"""Builds the model repository Triton serves from the repository's configs and these backends, then runs Triton.

inference/models/<model>/config.pbtxt is the one model repository that Triton and the local sidecar
both read (DESIGN.md, decision 2); it holds no code. Triton's Python backend wants
<model>/<version>/model.py. This joins the two with symbolic links, so nothing is copied and nothing
is written into the repository:

    OUT/<model>/config.pbtxt          -> CONFIGS/<model>/config.pbtxt   (edits reach Triton's poll)
    OUT/<model>/<version>/model.py    -> BACKENDS/<model>/model.py
    OUT/<model>/<version>/<file>      -> CONFIGS/<model>/<version>/<file>   (weights placed there)

Every numeric version directory of CONFIGS/<model> becomes one of OUT/<model> (version 1 when there
is none). A model without a backend here is left out, with a warning.

    python3 assemble_repository.py --configs /models --out /opt/arabicstt/model_repository \\
        -- tritonserver --model-repository=/opt/arabicstt/model_repository ...

After `--`, the command is executed in place of this process (the container's main process).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

MARKER = ".assembled-by-arabicstt"


def version_dirs(model_dir: Path) -> list[Path]:
    return sorted((p for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))


def assemble(configs: Path, backends: Path, out: Path) -> list[str]:
    """Links the repository into `out` (replacing an earlier assembly); returns the models it holds."""
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise SystemExit(f"{out} exists and was not made by {Path(__file__).name}; refusing to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("Made by inference/triton/assemble_repository.py; rebuilt at every start.\n")
    served = []
    for model_dir in sorted(p for p in configs.iterdir() if p.is_dir() and not p.name.startswith(".")):
        config = model_dir / "config.pbtxt"
        backend = backends / model_dir.name / "model.py"
        if not config.is_file():
            continue
        if not backend.is_file():
            print(f"assemble_repository: {model_dir.name} has no backend ({backend}); Triton will not serve it", file=sys.stderr)
            continue
        target = out / model_dir.name
        target.mkdir()
        (target / "config.pbtxt").symlink_to(config.resolve())
        for extra in model_dir.iterdir():
            if extra.name != "config.pbtxt" and not (extra.is_dir() and extra.name.isdigit()):
                (target / extra.name).symlink_to(extra.resolve())
        sources = version_dirs(model_dir) or [None]
        for source in sources:
            version = target / (source.name if source else "1")
            version.mkdir()
            if source:
                for entry in source.iterdir():
                    if entry.name != "model.py":
                        (version / entry.name).symlink_to(entry.resolve())
            (version / "model.py").symlink_to(backend.resolve())
        served.append(model_dir.name)
    return served


def main(argv: list[str]) -> int:
    command: list[str] = []
    if "--" in argv:
        command = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", required=True, type=Path, help="the model repository with config.pbtxt files")
    parser.add_argument("--backends", type=Path, default=Path(__file__).resolve().parent, help="where <model>/model.py live")
    parser.add_argument("--out", required=True, type=Path, help="the repository to build (a writable directory)")
    args = parser.parse_args(argv)
    served = assemble(args.configs, args.backends, args.out)
    print(f"assemble_repository: {args.out} serves {', '.join(served) or 'no models'}", file=sys.stderr)
    if command:
        sys.stderr.flush()
        os.execvp(command[0], command)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
