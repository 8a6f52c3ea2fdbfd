#!/usr/bin/env bash
# Makes a fresh clone runnable: npm dependencies (only when package-lock.json changed) and the pinned toolchain.
# Idempotent and fast when already done; `npm test`, `npm run demo` and `npm run bench` call it first.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.infra-agent-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing npm dependencies (package-lock.json changed or first run)" >&2
  # `npm ci` would be stricter, but it rejects lockfiles whose optional per-platform packages a registry mirror
  # lacks; `install --no-save` installs the locked versions and never rewrites the lock.
  npm install --no-audit --no-fund --no-save --loglevel=error
  echo "$want" > "$stamp"
fi

[ "${1:-}" = "--npm-only" ] && exit 0
exec bash scripts/setup-tools.sh
