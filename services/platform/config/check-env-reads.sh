#!/usr/bin/env bash
# `npm run lint:env`: the environment is read in config modules only (services/platform/config/ and the
# sidecar's inference/local/config.ts); everything else takes the Config object. A text rule: the pattern
# is unambiguous, so it needs no parser. Usage: check-env-reads.sh [ROOT] (default: the repository).
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/../../.." && pwd)}"
cd "$root"
found=$(grep -rln --include='*.ts' 'process\.env' gateway services inference telemetry deploy 2>/dev/null \
  | grep -v -e '^services/platform/config/' -e '^inference/local/config\.ts$' -e '/node_modules/' -e '/gen/' || true)
if [ -n "$found" ]; then
  echo "process.env is read outside the config modules (take the Config object, or testEnvironment() in tests):" >&2
  echo "$found" >&2
  exit 1
fi
