#!/usr/bin/env bash
# Install everything papertide and its tests need, then run the linter and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
.venv/bin/ruff check src tests bench
.venv/bin/python -m pytest "$@"
