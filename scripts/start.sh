#!/usr/bin/env bash
# Install papertide and run the main job on the embedded default (one SQLite file):
# sync recent papers from arXiv and Hugging Face, list them, index them, find their topics, run
# a search, and serve the web app (PAPERTIDE_NO_SERVE=1 stops before serving).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
papertide() { .venv/bin/papertide "$@"; }

papertide init
synced=0
category=${PAPERTIDE_CATEGORY:-cs.LG}
echo "Syncing arXiv $category (last 3 days) and today's Hugging Face daily papers..."
if papertide sync arxiv --category "$category"; then synced=1; else
    echo "  arXiv could not be reached; carrying on with what is stored."
fi
if papertide sync hf; then synced=1; else
    echo "  Hugging Face could not be reached; carrying on with what is stored."
fi
if [ "$synced" = 0 ] && [ "$(papertide stats --json | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["papers"])')" = 0 ]; then
    echo "No network and an empty database: loading the bundled sample papers instead."
    papertide sample load
fi
papertide stats
papertide list --limit 20
papertide index
papertide topics build || echo "  (too few papers for topics yet)"
echo
echo 'Hybrid search for "attention transformers language models":'
papertide search "attention transformers language models" --k 5
echo
echo "Topics:"
papertide topics list | head -10
if [ "${PAPERTIDE_NO_SERVE:-0}" != 1 ]; then
    echo
    echo "Serving on http://127.0.0.1:${PAPERTIDE_PORT:-8000}/ (Ctrl-C to stop)."
    papertide serve --port "${PAPERTIDE_PORT:-8000}"
fi
