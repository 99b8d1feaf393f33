#!/usr/bin/env bash
# Install everything papertide and its tests need, then run the linter and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
# The browser tests use Debian's chromium (Playwright is only the driver; it downloads nothing).
if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    else
        sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    fi
fi
.venv/bin/ruff check src tests bench
.venv/bin/python -m pytest "$@"
