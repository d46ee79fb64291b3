#!/usr/bin/env python3
"""Offline rules for docker-compose.yml and the Dockerfiles it builds (bash deploy/check.sh runs this).

No Docker daemon is needed: the compose file is read as YAML and each Dockerfile as text.

compose   every service the stack needs exists; `docker compose up` starts the CPU stack and the
          `gpu` profile adds Triton; no default service depends on a profiled one; every long-running
          service has a healthcheck, and every `service_healthy` dependency has one to wait for.
users     each built image's last USER is not root, and every path its containers write (the
          compose volumes mounted read-write, DATA_DIR/HF_HOME-style ENV paths, the parent of an
          `--out=` directory a command replaces) is created and chowned to that user in the image.
lint      hadolint-like rules (no hadolint package is installable offline): pinned FROM images,
          apt-get with --no-install-recommends and its lists removed in the same RUN, no ADD for
          local files, no sudo, no `cd` (WORKDIR), pipefail before a piped RUN, pip without a
          cache, exec-form CMD/ENTRYPOINT, a HEALTHCHECK.

Usage: check_images.py [ROOT]   (default: the repository). Exits 1 listing every failure.
"""
from __future__ import annotations

import pathlib
import re
import shlex
import sys

import yaml

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
errors: list[str] = []


def fail(message: str) -> None:
    errors.append(message)


# ------------------------------------------------------------------------------------------------
# Dockerfiles: instructions with their continuation lines joined, comments dropped.


def instructions(text: str) -> list[tuple[int, str, str]]:
    """(line number, INSTRUCTION, arguments) of a Dockerfile."""
    out: list[tuple[int, str, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = pending + line
        pending = ""
        keyword, _, rest = whole.partition(" ")
        out.append((start, keyword.upper(), rest.strip()))
    return out


def arg_defaults(steps: list[tuple[int, str, str]]) -> dict[str, str]:
    defaults: dict[str, str] = {}
    for _, keyword, rest in steps:
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            defaults[name.strip()] = value.strip().strip('"')
    return defaults


def final_stage(steps: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    starts = [i for i, (_, keyword, _) in enumerate(steps) if keyword == "FROM"]
    return steps[starts[-1]:] if starts else steps


def env_values(steps: list[tuple[int, str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for _, keyword, rest in steps:
        if keyword != "ENV":
            continue
        for token in shlex.split(rest):
            if "=" in token:
                name, _, value = token.partition("=")
                values[name] = value
    return values


def owned_paths(steps: list[tuple[int, str, str]], user: str) -> list[str]:
    """Paths the final stage hands to `user`: `chown [-R] user[:group] PATH...` and `COPY --chown=user`."""
    names = {user, user.split(":")[0]}
    paths: list[str] = []
    for _, keyword, rest in steps:
        if keyword == "RUN":
            for command in re.split(r"&&|;", rest):
                words = shlex.split(command, posix=True) if command.strip() else []
                if words[:1] == ["chown"]:
                    args = [w for w in words[1:] if not w.startswith("-")]
                    if args and args[0].split(":")[0] in names:
                        paths += args[1:]
        if keyword == "COPY":
            match = re.search(r"--chown=(\S+)", rest)
            destination = rest.split()[-1]
            # `COPY --chown=u . .` owns the copied files, not the directory they land in: a path made
            # there later (a data directory) is root's unless chowned itself.
            if match and match.group(1).split(":")[0] in names and destination not in (".", "./"):
                paths.append(destination)
    return [p.rstrip("/") or "/" for p in paths]


def covered(path: str, owned: list[str], workdir: str) -> bool:
    absolute = path if path.startswith("/") else f"{workdir.rstrip('/')}/{path.lstrip('./')}"
    absolute = absolute.rstrip("/")
    owned_abs = [(p if p.startswith("/") else f"{workdir.rstrip('/')}/{p.lstrip('./')}").rstrip("/") for p in owned]
    return any(absolute == p or absolute.startswith(p + "/") for p in owned_abs)


def lint_dockerfile(path: pathlib.Path) -> None:
    name = str(path.relative_to(ROOT))
    steps = instructions(path.read_text(encoding="utf-8"))
    args = arg_defaults(steps)
    stages: set[str] = set()
    pipefail = False
    for number, keyword, rest in steps:
        where = f"{name}:{number}"
        if keyword == "FROM":
            words = rest.split()
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            if image not in stages and image != "scratch":
                if "$" in image:
                    fail(f"{where}: FROM {words[0]} has no ARG default")
                elif "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
                    fail(f"{where}: pin FROM {image} to a tag other than latest (hadolint DL3006/DL3007)")
            if len(words) >= 3 and words[1].upper() == "AS":
                stages.add(words[2])
        if keyword == "SHELL" and "pipefail" in rest:
            pipefail = True
        if keyword == "RUN":
            if re.search(r"\bapt-get install\b", rest) and "--no-install-recommends" not in rest:
                fail(f"{where}: apt-get install without --no-install-recommends (hadolint DL3015)")
            if re.search(r"\bapt-get (update|install)\b", rest) and "rm -rf /var/lib/apt/lists" not in rest:
                fail(f"{where}: remove /var/lib/apt/lists in the RUN that installs (hadolint DL3009)")
            if re.search(r"(^|&&|;)\s*sudo\b", rest):
                fail(f"{where}: no sudo in a Dockerfile (hadolint DL3004)")
            if re.search(r"(^|&&|;)\s*cd\s", rest):
                fail(f"{where}: use WORKDIR instead of cd (hadolint DL3003)")
            if re.search(r"[^|]\|[^|]", rest) and not pipefail and not rest.startswith("set -o pipefail"):
                fail(f"{where}: a piped RUN needs SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] first (hadolint DL4006)")
            if re.search(r"\bpip3? install\b|-m pip install\b", rest) and "--no-cache-dir" not in rest and env_values(steps).get("PIP_NO_CACHE_DIR") not in ("1", "true", "on"):
                fail(f"{where}: pip install without --no-cache-dir or PIP_NO_CACHE_DIR=1 (hadolint DL3042)")
        if keyword == "ADD" and not re.search(r"https?://|\.tar", rest):
            fail(f"{where}: use COPY for local files (hadolint DL3020)")
        if keyword in ("CMD", "ENTRYPOINT") and not rest.startswith("["):
            fail(f"{where}: {keyword} in exec form (JSON array) so signals reach the process (hadolint DL3025)")
    final = final_stage(steps)
    if not any(k == "HEALTHCHECK" for _, k, _ in final):
        fail(f"{name}: no HEALTHCHECK")
    users = [rest for _, k, rest in final if k == "USER"]
    if not users:
        fail(f"{name}: the image runs as root (no USER)")
    elif users[-1].split(":")[0] in ("root", "0"):
        fail(f"{name}: the last USER is root")


def image_user(path: pathlib.Path) -> tuple[str, list[str], str, dict[str, str]]:
    """(user, owned paths, last WORKDIR, ENV) of the final stage of a Dockerfile."""
    final = final_stage(instructions(path.read_text(encoding="utf-8")))
    users = [rest for _, k, rest in final if k == "USER"]
    user = users[-1] if users else "root"
    workdirs = [rest for _, k, rest in final if k == "WORKDIR"]
    return user, owned_paths(final, user), workdirs[-1] if workdirs else "/", env_values(final)


# ------------------------------------------------------------------------------------------------
# docker-compose.yml

REQUIRED = ["postgres", "redis", "minio", "minio-init", "sidecar", "gateway", "worker", "prometheus", "alertmanager", "grafana", "triton"]
GPU_ONLY = {"triton"}
# Services whose writable paths a daemon-less check cannot see into (third-party images run their
# own entrypoints, which drop to their users): only the images built here are checked for ownership.

compose_path = ROOT / "docker-compose.yml"
compose = yaml.safe_load(compose_path.read_text(encoding="utf-8"))
services: dict = compose.get("services", {})

for name in REQUIRED:
    if name not in services:
        fail(f"docker-compose.yml: service {name} missing")

for name, service in services.items():
    profiles = service.get("profiles") or []
    if name in GPU_ONLY and profiles != ["gpu"]:
        fail(f"docker-compose.yml: {name} must run under the gpu profile only (profiles: [\"gpu\"])")
    if name not in GPU_ONLY and profiles:
        fail(f"docker-compose.yml: {name} has profiles {profiles}; `docker compose up` must start it")
    one_shot = str(service.get("restart", "")) == "no"
    if not one_shot and not (service.get("healthcheck") or {}).get("test"):
        fail(f"docker-compose.yml: {name} has no healthcheck")
    depends = service.get("depends_on") or {}
    for target, rule in (depends.items() if isinstance(depends, dict) else ((d, {}) for d in depends)):
        if target not in services:
            fail(f"docker-compose.yml: {name} depends on unknown service {target}")
            continue
        if not profiles and services[target].get("profiles"):
            fail(f"docker-compose.yml: {name} starts by default but depends on {target}, which only a profile starts")
        if (rule or {}).get("condition") == "service_healthy" and not (services[target].get("healthcheck") or {}).get("test"):
            fail(f"docker-compose.yml: {name} waits for {target} to be healthy, which has no healthcheck")

for name in ("gateway", "worker"):
    url = str((services.get(name, {}).get("environment") or {}).get("TRITON_URL", ""))
    if "sidecar:" not in url:
        fail(f"docker-compose.yml: {name}'s TRITON_URL must default to the CPU sidecar (got {url!r})")

# Images built here: the user each runs as owns what its containers write.
checked: set[str] = set()
for name, service in services.items():
    build = service.get("build")
    if not build:
        continue
    dockerfile = ROOT / (build.get("context", ".") if isinstance(build, dict) else build) / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile")
    if not dockerfile.exists():
        fail(f"docker-compose.yml: {name} builds {dockerfile.relative_to(ROOT)}, which does not exist")
        continue
    if str(dockerfile) not in checked:
        lint_dockerfile(dockerfile)
        checked.add(str(dockerfile))
    user, owned, workdir, env = image_user(dockerfile)
    if user.split(":")[0] in ("root", "0"):
        continue  # reported by lint_dockerfile
    if service.get("user") not in (None, user) and str(service.get("user")).split(":")[0] in ("root", "0"):
        fail(f"docker-compose.yml: {name} overrides the image's user with root")
    writes: list[tuple[str, str]] = []
    for volume in service.get("volumes") or []:
        spec = volume if isinstance(volume, str) else f"{volume.get('source', '')}:{volume.get('target', '')}:{'ro' if volume.get('read_only') else 'rw'}"
        parts = spec.split(":")
        if len(parts) >= 2 and "ro" not in parts[2:]:
            writes.append((parts[1], f"volume {spec}"))
    environment = {**env, **{k: str(v) for k, v in (service.get("environment") or {}).items()}}
    for variable in ("DATA_DIR", "HF_HOME", "SCRATCH_DIR"):
        if environment.get(variable, "").startswith("/"):
            writes.append((environment[variable], f"{variable}={environment[variable]}"))
    command = service.get("command") or []
    for word in command if isinstance(command, list) else shlex.split(command):
        match = re.match(r"--out=(/\S+)", str(word))
        if match:
            # The directory is replaced (removed, re-created): that takes its parent.
            writes.append((str(pathlib.PurePosixPath(match.group(1)).parent), f"the parent of {word}"))
    for path, why in writes:
        if not covered(path, owned, workdir):
            fail(f"{dockerfile.relative_to(ROOT)}: {name} writes {path} ({why}), which the image does not chown to {user}")

# Dockerfiles nothing in compose builds are linted all the same.
for dockerfile in sorted(ROOT.glob("deploy/**/Dockerfile")):
    if str(dockerfile) not in checked:
        lint_dockerfile(dockerfile)
        checked.add(str(dockerfile))

for message in errors:
    print(f"FAIL: {message}", file=sys.stderr)
if errors:
    sys.exit(1)
print(f"ok: {len(services)} compose services, {len(checked)} Dockerfile(s): users own their writable paths, lint rules pass")
