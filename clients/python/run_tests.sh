#!/usr/bin/env bash
# Runs the Python client's tests against the real server binary (built with `cargo build` by
# the tests if target/debug/askpro is missing; ASKPRO_BIN overrides). Creates clients/python/.venv
# on first use, so the system Python stays clean. Extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last install (the install is editable,
# so source changes need none).
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
  touch .venv/.installed
fi
# The typing stubs are part of the package: the hand-written layer type-checks strictly against
# them, and the tests use them the way callers do.
.venv/bin/python -m mypy --strict src/askpro_client
.venv/bin/python -m mypy tests
exec .venv/bin/python -m pytest -q "$@"
