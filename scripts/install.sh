#!/usr/bin/env bash
# Installs papertide into ./.venv (idempotent). With --test, also the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "papertide needs Python 3.11 or newer; found $("$PYTHON" --version)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
extras="model-build"
if [ "${1:-}" = "--test" ]; then
    extras="model-build,test"
fi
.venv/bin/python -m pip install --quiet --editable ".[${extras}]"
# Static assets for the web app (KaTeX, Swagger UI), from the npm registry, once.
scripts/vendor.sh
# Export the embedding model to int8 ONNX once (a no-op when it is already there).
.venv/bin/papertide model prepare
