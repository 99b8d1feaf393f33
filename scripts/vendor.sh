#!/usr/bin/env bash
# Vendor the web app's static assets from the npm registry into the package, once (build time):
# the app never loads anything from a CDN. Without npm, math in titles shows as plain text.
set -euo pipefail
cd "$(dirname "$0")/.."
KATEX_VERSION=0.16.47
dest=src/papertide/web/static/vendor/katex
if [ -f "$dest/VERSION" ] && [ "$(cat "$dest/VERSION")" = "$KATEX_VERSION" ]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "npm not found: skipping KaTeX (math will show as plain text)" >&2
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "katex@$KATEX_VERSION" --silent >/dev/null && tar xzf katex-*.tgz)
rm -rf "$dest"
mkdir -p "$dest/contrib"
cp "$work/package/dist/katex.min.js" "$work/package/dist/katex.min.css" "$dest/"
cp "$work/package/dist/contrib/auto-render.min.js" "$dest/contrib/"
cp -r "$work/package/dist/fonts" "$dest/"
cp "$work/package/LICENSE" "$dest/"
echo "$KATEX_VERSION" > "$dest/VERSION"
