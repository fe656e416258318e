#!/usr/bin/env bash
# Builds and tests the TypeScript client against the real server binary ($ASKPRO_BIN, else
# target/debug/askpro; build it with `cargo build` in the repository root). Installs the pinned
# dependencies with `npm ci` when node_modules is missing or older than package-lock.json.
# The browser test needs Debian's chromium at /usr/bin/chromium (CHROMIUM_BIN overrides).
# Extra arguments go to vitest, e.g. `./run_tests.sh tests/retries.test.ts`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# A relative ASKPRO_BIN means relative to where this script was started, not to this folder.
case "${ASKPRO_BIN:-}" in
  "" | /*) ;;
  *) export ASKPRO_BIN="$PWD/$ASKPRO_BIN" ;;
esac
cd "$here"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
npm run --silent typecheck
exec npx --no-install vitest run "$@"
