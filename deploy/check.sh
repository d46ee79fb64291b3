#!/usr/bin/env bash
# Offline validation of the deployment files. CI runs: bash deploy/check.sh
#
#   docker-compose.yml            docker-compose config -q (Debian's docker-compose 1.29), with and
#                                 without the gpu profile, and the current compose-spec schema (dclint,
#                                 fetched with npm; skipped offline)
#   deploy/prometheus/*.yml       promtool check config / check rules / test rules
#   deploy/alertmanager           amtool check-config (Debian's prometheus-alertmanager, installed when
#                                 root; otherwise a YAML shape check only), and always: every route's
#                                 receiver defined, Prometheus's alerting block aims at the compose service
#   deploy/k8s/prometheus-adapter-rules.yml  shape, and every custom/external metric an HPA uses is served
#   deploy/grafana/**/*.json      JSON syntax, dashboard structure, every PromQL query parsed by promtool
#   deploy/grafana/provisioning   YAML structure
#   deploy/docker/Dockerfile      static checks (non-root user, HEALTHCHECK, EXPOSE, CMD)
#   compose + every Dockerfile    deploy/check_images.py: the CPU stack by default and Triton under the
#                                 gpu profile, healthchecks everywhere, each image's user owns the paths
#                                 its containers write, hadolint-like Dockerfile rules
#   deploy/k8s                    every manifest, and each overlay (cpu, gpu) as kustomize renders it
#                                 (kubectl kustomize, kustomize v4+; rendering skipped without one),
#                                 validated against the Kubernetes schemas of the pinned npm package
#                                 kubernetes-models (deploy/k8s/validate.mjs), offline
#   all YAML                      yamllint (skipped when yamllint is not installed)
#
# Missing tools (docker-compose, promtool; yamllint alongside) are installed with apt-get when
# running as root; yamllint alone is optional and skipped when absent.
# Exits non-zero on the first failing group of checks.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
START=$(date +%s.%N)
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

apt_install() {
  # apt_install PKG...: install Debian packages, refreshing the index only if the first try fails.
  # Returns non-zero (after printing the log's tail) when they cannot be installed.
  if [ "$(id -u)" -ne 0 ]; then
    echo "cannot install $* without root (apt-get install $*)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
  if apt-get install "${opts[@]}" "$@" >"$TMP/apt.log" 2>&1; then return 0; fi
  echo "apt-get install $* failed; running apt-get update and retrying"
  apt-get update -q -o DPkg::Lock::Timeout=300 >>"$TMP/apt.log" 2>&1 || true
  apt-get install "${opts[@]}" "$@" >>"$TMP/apt.log" 2>&1 && return 0
  tail -20 "$TMP/apt.log" >&2
  return 1
}

step "tools"
# Required tools: COMMAND:PACKAGE, installed together in one apt-get call when missing.
missing=()
for pair in docker-compose:docker-compose promtool:prometheus python3:python3; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  # yamllint is small; bring it along when installing anyway.
  command -v yamllint >/dev/null 2>&1 || missing+=(yamllint)
  apt_install "${missing[@]}" || fail "could not install ${missing[*]}"
fi
for c in docker-compose promtool python3; do
  command -v "$c" >/dev/null 2>&1 || fail "$c is missing"
done
python3 -c 'import yaml' 2>/dev/null || apt_install python3-yaml || fail "python3-yaml is missing (apt-get install python3-yaml)"

echo "docker-compose $(docker-compose version --short 2>/dev/null || echo '?')"
promtool --version 2>&1 | head -1

# ---------------------------------------------------------------------------------------
step "docker-compose.yml"
# A clean environment: the defaults in the file must be enough to render it.
env -i PATH="$PATH" HOME="${HOME:-/root}" docker-compose -f docker-compose.yml config -q
env -i PATH="$PATH" HOME="${HOME:-/root}" docker-compose -f docker-compose.yml --profile gpu config -q
env -i PATH="$PATH" HOME="${HOME:-/root}" docker-compose -f docker-compose.yml --profile gpu config --services >"$TMP/services"
for s in postgres redis minio minio-init sidecar triton gateway worker prometheus alertmanager grafana; do
  grep -qx "$s" "$TMP/services" || fail "docker-compose.yml: service $s missing"
done
# Compose v2 compatibility: no obsolete top-level version key, and every file the stack mounts exists.
if grep -Eq '^version:' docker-compose.yml; then fail "docker-compose.yml: drop the obsolete top-level version key"; fi
for f in deploy/docker/Dockerfile deploy/prometheus/prometheus.yml deploy/prometheus/alerts.yml deploy/alertmanager/alertmanager.yml \
         deploy/grafana/provisioning/datasources deploy/grafana/provisioning/dashboards deploy/grafana/dashboards; do
  [ -e "$f" ] || fail "docker-compose.yml refers to $f, which does not exist"
done
echo "ok: $(wc -l <"$TMP/services") services (docker-compose 1.29)"

# The current compose-spec schema (what Compose v2 enforces), via dclint from the npm registry.
# Skipped, not failed, when the package cannot be fetched (offline machine).
DCLINT=(npm exec --yes --prefer-offline --package=dclint@3.1.0 -- dclint)
if command -v npm >/dev/null 2>&1 && timeout 180 "${DCLINT[@]}" --version >/dev/null 2>&1; then
  "${DCLINT[@]}" --color=false --quiet docker-compose.yml || fail "docker-compose.yml does not satisfy the compose-spec schema (Compose v2)"
  echo "ok: compose-spec schema (dclint 3.1.0)"
else
  echo "skipped: compose-spec schema check (npm or dclint@3.1.0 unavailable)"
fi

# ---------------------------------------------------------------------------------------
step "prometheus"
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts.test.yml

# ---------------------------------------------------------------------------------------
step "alertmanager"
AM=deploy/alertmanager/alertmanager.yml
if ! command -v amtool >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  # Debian's package ships amtool; its service is not started here (no init system in CI containers).
  apt_install prometheus-alertmanager >/dev/null 2>&1 || echo "prometheus-alertmanager not installable; shape check only"
fi
if command -v amtool >/dev/null 2>&1; then
  amtool check-config "$AM" || fail "$AM: amtool check-config"
else
  echo "skipped: amtool check-config (apt-get install prometheus-alertmanager)"
fi
python3 - "$AM" <<'PY'
import sys, yaml
am = yaml.safe_load(open(sys.argv[1]))
errors = []
receivers = [r.get("name") for r in am.get("receivers") or []]
if not receivers or len(set(receivers)) != len(receivers):
    errors.append("receivers: need distinct named receivers")
def walk(route, where):
    if "receiver" in route and route["receiver"] not in receivers:
        errors.append(f"{where}: receiver {route['receiver']!r} is not defined")
    for key in ("matchers", "group_by"):
        if key in route and not isinstance(route[key], list):
            errors.append(f"{where}: {key} must be a list")
    for i, child in enumerate(route.get("routes") or []):
        walk(child, f"{where}.routes[{i}]")
root = am.get("route") or {}
if "receiver" not in root:
    errors.append("route: the root route needs a receiver")
walk(root, "route")
for i, rule in enumerate(am.get("inhibit_rules") or []):
    if not rule.get("source_matchers") or not rule.get("target_matchers"):
        errors.append(f"inhibit_rules[{i}]: needs source_matchers and target_matchers")
prom = yaml.safe_load(open("deploy/prometheus/prometheus.yml"))
targets = [t for am_ in (prom.get("alerting") or {}).get("alertmanagers", []) for sc in am_.get("static_configs", []) for t in sc.get("targets", [])]
if "alertmanager:9093" not in targets:
    errors.append("deploy/prometheus/prometheus.yml: alerting.alertmanagers must target alertmanager:9093")
compose = yaml.safe_load(open("docker-compose.yml"))
svc = compose.get("services", {}).get("alertmanager", {})
if not any(str(v).startswith("./deploy/alertmanager:") for v in svc.get("volumes", [])):
    errors.append("docker-compose.yml: alertmanager must mount ./deploy/alertmanager")
for e in errors:
    print(f"FAIL: {sys.argv[1]}: {e}", file=sys.stderr)
if errors:
    sys.exit(1)
print(f"ok: {len(receivers)} receivers, routes resolve, Prometheus sends to alertmanager:9093")
PY

# ---------------------------------------------------------------------------------------
step "prometheus adapter rules (deploy/k8s)"
python3 - <<'PY'
import pathlib, sys, yaml
rules = yaml.safe_load(open("deploy/k8s/prometheus-adapter-rules.yml"))
errors, served = [], {"Pods": set(), "External": set()}
for key, kind in (("rules", "Pods"), ("externalRules", "External")):
    for i, r in enumerate(rules.get(key) or []):
        for field in ("seriesQuery", "metricsQuery", "resources", "name"):
            if field not in r:
                errors.append(f"{key}[{i}]: missing {field}")
        if "<<.Series>>" not in r.get("metricsQuery", ""):
            errors.append(f"{key}[{i}]: metricsQuery must use <<.Series>>")
        served[kind].add((r.get("name") or {}).get("as") or r.get("seriesQuery", "").split("{")[0])
used = 0
for path in sorted(pathlib.Path("deploy/k8s").rglob("*.yaml")):
    for doc in yaml.safe_load_all(path.read_text()):
        if not doc or doc.get("kind") != "HorizontalPodAutoscaler":
            continue
        for m in doc["spec"].get("metrics", []):
            kind = m["type"]
            if kind in served:
                used += 1
                name = m[kind.lower()]["metric"]["name"]
                if name not in served[kind]:
                    errors.append(f"{path}: HPA {doc['metadata']['name']} uses {kind} metric {name}, which no adapter rule serves")
for e in errors:
    print("FAIL: deploy/k8s/prometheus-adapter-rules.yml:", e, file=sys.stderr)
if errors:
    sys.exit(1)
print(f"ok: {used} HPA custom/external metrics, each served by an adapter rule")
PY

# ---------------------------------------------------------------------------------------
step "grafana"
python3 - "$TMP/dashboard-queries.yml" <<'PY'
import json, pathlib, re, sys

out_rules = sys.argv[1]
errors = []
queries = []

def err(msg):
    errors.append(msg)

# Every JSON file under deploy/ must parse.
for path in sorted(pathlib.Path("deploy").rglob("*.json")):
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        err(f"{path}: invalid JSON: {e}")

dashboards = sorted(pathlib.Path("deploy/grafana/dashboards").glob("*.json"))
if not dashboards:
    err("deploy/grafana/dashboards: no dashboards")
uids = {}
for path in dashboards:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except Exception:
        continue
    for key in ("uid", "title", "panels", "schemaVersion"):
        if key not in d:
            err(f"{path}: missing top-level {key!r}")
    uid = d.get("uid", "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid or ""):
        err(f"{path}: uid {uid!r} must be 1-40 chars of [A-Za-z0-9_-]")
    if uid in uids:
        err(f"{path}: uid {uid!r} also used by {uids[uid]}")
    uids[uid] = path
    variables = {v.get("name") for v in d.get("templating", {}).get("list", [])}
    ids = set()
    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get("panels", []))
    for p in walk(d.get("panels", [])):
        where = f"{path}: panel {p.get('id')} {p.get('title')!r}"
        if "id" not in p or "type" not in p or "title" not in p:
            err(f"{where}: needs id, type and title")
        if p.get("id") in ids:
            err(f"{where}: duplicate panel id")
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in ("x", "y", "w", "h")) or g.get("x", 0) + g.get("w", 0) > 24:
            err(f"{where}: gridPos must have integer x,y,w,h within 24 columns")
        if p.get("type") == "row":
            continue
        targets = p.get("targets", [])
        if not targets:
            err(f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or None in refs:
            err(f"{where}: targets need distinct refIds")
        for t in targets:
            expr = t.get("expr", "")
            if not expr.strip():
                err(f"{where}: target {t.get('refId')} has no expr")
                continue
            for var in re.findall(r"\$\{?(\w+)", expr):
                if not var.startswith("__") and var not in variables:
                    err(f"{where}: expr uses undefined variable ${var}")
            queries.append((where, t.get("refId"), expr))

# Substitute Grafana variables so promtool can parse every query as PromQL.
def concrete(expr):
    expr = re.sub(r"\$__(rate_interval|interval|range)", "5m", expr)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)

with open(out_rules, "w", encoding="utf-8") as f:
    f.write("groups:\n  - name: dashboard-queries\n    rules:\n")
    for i, (where, ref, expr) in enumerate(queries):
        f.write(f"      - record: dashboard_query_{i}\n        expr: {json.dumps(concrete(expr))}\n")

for path in sorted(pathlib.Path("deploy/grafana/provisioning").rglob("*.y*ml")):
    text = path.read_text(encoding="utf-8")
    if not re.search(r"^apiVersion: 1\s*$", text, re.M):
        err(f"{path}: provisioning files need 'apiVersion: 1'")
    if "datasources" in path.parts and "datasources:" not in text:
        err(f"{path}: no datasources list")
    if path.parent.name == "dashboards" and "providers:" not in text:
        err(f"{path}: no providers list")

for e in errors:
    print("FAIL:", e, file=sys.stderr)
if errors:
    sys.exit(1)
print(f"ok: {len(dashboards)} dashboard(s), {len(queries)} queries")
PY
# PromQL syntax of every dashboard query.
promtool check rules "$TMP/dashboard-queries.yml" >"$TMP/promql.log" 2>&1 || { cat "$TMP/promql.log" >&2; fail "dashboard PromQL"; }
echo "ok: dashboard queries parse as PromQL"

# ---------------------------------------------------------------------------------------
step "Dockerfile"
DF=deploy/docker/Dockerfile
grep -Eq '^FROM .+ AS ' "$DF"                    || fail "$DF: expected a multi-stage build"
grep -Eq '^USER +[^r0]' "$DF"                    || fail "$DF: must switch to a non-root USER"
grep -Eq '^HEALTHCHECK ' "$DF"                   || fail "$DF: needs a HEALTHCHECK"
grep -Eq '^EXPOSE .*50051' "$DF" && grep -Eq '^EXPOSE .*8080' "$DF" || fail "$DF: must EXPOSE 50051 and 8080"
grep -Eq 'npm ci --omit=dev' "$DF"               || fail "$DF: install with npm ci --omit=dev"
grep -Eq 'ffmpeg' "$DF"                          || fail "$DF: the worker needs ffmpeg"
grep -Eq '^CMD ' "$DF"                           || fail "$DF: needs a default CMD"
[ -f .dockerignore ] && grep -qx 'node_modules' .dockerignore || fail ".dockerignore must exclude node_modules"
echo "ok"

# ---------------------------------------------------------------------------------------
step "images, users and Dockerfile lint"
python3 deploy/check_images.py

# ---------------------------------------------------------------------------------------
step "kubernetes (deploy/k8s)"
[ -f node_modules/kubernetes-models/package.json ] || fail "kubernetes-models is not installed: npm ci"
to_json() { python3 -c 'import json, sys, yaml; print(json.dumps([d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d and d.get("kind") != "Kustomization"]))' "$@"; }
# Every manifest as written, whether or not a kustomize is at hand.
mapfile -t manifests < <(find deploy/k8s -name '*.yaml' -not -name kustomization.yaml | LC_ALL=C sort)
to_json "${manifests[@]}" | node deploy/k8s/validate.mjs manifests --files >"$TMP/k8s.log" 2>&1 || { cat "$TMP/k8s.log" >&2; fail "deploy/k8s manifests"; }
echo "ok: ${#manifests[@]} manifest files, $(grep -c '^ok' "$TMP/k8s.log") objects valid"
# Each overlay as a cluster would receive it.
kustomize_version=""
if command -v kubectl >/dev/null 2>&1; then
  kustomize_version=$(kubectl version --client -o json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin).get("kustomizeVersion", ""))' || true)
fi
if [[ "$kustomize_version" =~ ^v([4-9]|[1-9][0-9]) ]]; then
  for overlay in deploy/k8s/overlays/*/; do
    name=$(basename "$overlay")
    kubectl kustomize "$overlay" >"$TMP/$name.yaml" || fail "deploy/k8s/overlays/$name does not render"
    to_json "$TMP/$name.yaml" | node deploy/k8s/validate.mjs "$name" >"$TMP/k8s.log" 2>&1 || { cat "$TMP/k8s.log" >&2; fail "deploy/k8s/overlays/$name"; }
    for kind in Deployment Service HorizontalPodAutoscaler PodDisruptionBudget NetworkPolicy ConfigMap Secret; do
      grep -q "^kind: $kind\$" "$TMP/$name.yaml" || fail "deploy/k8s/overlays/$name renders no $kind"
    done
    echo "ok: overlay $name: $(grep -c '^ok' "$TMP/k8s.log") objects render and validate (kustomize $kustomize_version)"
  done
else
  echo "skipped: rendering the overlays (needs kubectl with kustomize v4 or later; found ${kustomize_version:-none})"
fi

# ---------------------------------------------------------------------------------------
step "yamllint"
if command -v yamllint >/dev/null 2>&1; then
  yamllint -s -c deploy/yamllint.yml docker-compose.yml deploy
  echo "ok"
else
  echo "skipped: yamllint not installed (apt-get install yamllint)"
fi

awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "\nall deployment checks passed in %.1fs\n", e - s }'
