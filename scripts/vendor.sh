#!/usr/bin/env bash
# Vendor the web app's static assets from the npm registry into the package, once (build time):
# the app never loads anything from a CDN. Pinned versions; a package already vendored at its
# version is left alone. Without npm, math in titles shows as plain text and /docs says that
# its assets are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
KATEX_VERSION=0.16.47
SWAGGER_UI_VERSION=5.35.0
vendor=src/papertide/web/static/vendor

# fetch NAME VERSION: unpack the npm package NAME@VERSION into $work/package, or return 1 when
# it is already vendored or npm is missing.
fetch() {
    local name=$1 version=$2
    if [ -f "$vendor/$name/VERSION" ] && [ "$(cat "$vendor/$name/VERSION")" = "$version" ]; then
        return 1
    fi
    if ! command -v npm >/dev/null; then
        echo "npm not found: skipping $name (see scripts/vendor.sh)" >&2
        return 1
    fi
    rm -rf "$work/package" "$work"/*.tgz
    (cd "$work" && npm pack "$name@$version" --silent >/dev/null && tar xzf ./*.tgz) ||
        { echo "could not fetch $name@$version from the npm registry" >&2; exit 1; }
    rm -rf "${vendor:?}/$name"
    mkdir -p "$vendor/$name"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if fetch katex "$KATEX_VERSION"; then
    dest=$vendor/katex
    mkdir -p "$dest/contrib"
    cp "$work/package/dist/katex.min.js" "$work/package/dist/katex.min.css" "$dest/"
    cp "$work/package/dist/contrib/auto-render.min.js" "$dest/contrib/"
    cp -r "$work/package/dist/fonts" "$dest/"
    cp "$work/package/LICENSE" "$dest/"
    echo "$KATEX_VERSION" > "$dest/VERSION"
fi

# Swagger UI for /docs (web/docs.py). ReDoc is not vendored: it injects inline styles, which the
# Content-Security-Policy refuses.
if fetch swagger-ui-dist "$SWAGGER_UI_VERSION"; then
    dest=$vendor/swagger-ui-dist
    cp "$work/package/swagger-ui-bundle.js" "$work/package/swagger-ui.css" "$dest/"
    cp "$work/package/LICENSE" "$dest/"
    echo "$SWAGGER_UI_VERSION" > "$dest/VERSION"
fi
