#!/usr/bin/env bash
# Refresh static/vendor/ (and the test-only tests/browser/vendor/) from the npm packages
# pinned in package.json / package-lock.json.
#
#   bash scripts/vendor.sh        (or: make vendor)
#
# Needs Node + npm only when refreshing; the result is committed, so installing or running
# the app needs neither, and no page loads anything from a CDN. Idempotent: static/vendor/
# is rebuilt from scratch each run, so files dropped upstream do not linger.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # repo root, wherever we are called from

NM=node_modules
OUT=static/vendor

# Exact versions and integrity hashes come from package-lock.json. --ignore-scripts: we only
# copy built files out of the tarballs, so no package needs to run code on this machine.
npm ci --no-audit --no-fund --ignore-scripts

# first existing file among the arguments, or fail
first_of() {
    local f
    for f in "$@"; do
        if [[ -f "$f" ]]; then printf '%s\n' "$f"; return 0; fi
    done
    echo "vendor.sh: none of these exist: $*" >&2
    return 1
}

# copy <dest-dir> <file>...  (fails loudly if a file is missing)
copy() {
    local dest="$OUT/$1"; shift
    mkdir -p "$dest"
    local f
    for f in "$@"; do
        [[ -f "$f" ]] || { echo "vendor.sh: missing $f" >&2; return 1; }
        cp -- "$f" "$dest/"
    done
}

# copy_license <dest-dir> <package> [suffix]  -> LICENSE[.md] (or LICENSE.<suffix>[.md])
copy_license() {
    local dest="$OUT/$1" pkg="$2" suffix="${3:-}"
    local src name
    src=$(first_of "$NM/$pkg/LICENSE" "$NM/$pkg/LICENSE.md" "$NM/$pkg/LICENSE.txt")
    name=$(basename "$src")
    if [[ -n "$suffix" ]]; then
        name="LICENSE.$suffix${name#LICENSE}"
    fi
    mkdir -p "$dest"
    cp -- "$src" "$dest/$name"
}

version_of() {
    node -p 'require(process.argv[1]).version' "$PWD/$NM/$1/package.json"
}

# start clean so the script is idempotent
rm -rf -- "$OUT"
mkdir -p "$OUT"

# htmx
copy htmx "$NM/htmx.org/dist/htmx.min.js"
copy_license htmx htmx.org

# htmx's server-sent events extension (live session and live board)
copy htmx-ext-sse "$NM/htmx-ext-sse/dist/sse.min.js"
copy_license htmx-ext-sse htmx-ext-sse

# Bootstrap (the bundle embeds Popper, hence Popper's licence next to it)
copy bootstrap "$NM/bootstrap/dist/css/bootstrap.min.css" \
               "$NM/bootstrap/dist/js/bootstrap.bundle.min.js"
copy_license bootstrap bootstrap
copy_license bootstrap @popperjs/core popper

# jsQR (the UMD dist build)
copy jsqr "$NM/jsqr/dist/jsQR.js"
copy_license jsqr jsqr

# Leaflet (leaflet.css refers to images/ relative to itself)
copy leaflet "$NM/leaflet/dist/leaflet.js" "$NM/leaflet/dist/leaflet.css"
mkdir -p "$OUT/leaflet/images"
cp -- "$NM"/leaflet/dist/images/*.png "$OUT/leaflet/images/"
copy_license leaflet leaflet

# Chart.js (UMD build; it embeds @kurkle/color, hence that licence too)
copy chartjs "$(first_of "$NM/chart.js/dist/chart.umd.min.js" "$NM/chart.js/dist/chart.umd.js")"
copy_license chartjs chart.js
copy_license chartjs @kurkle/color kurkle-color

# what is vendored, straight from the installed packages' package.json files
{
    for pkg in htmx.org htmx-ext-sse bootstrap jsqr leaflet chart.js; do
        printf '%s@%s\n' "$pkg" "$(version_of "$pkg")"
    done
} > "$OUT/VERSIONS.txt"

echo "vendor.sh: refreshed $OUT ($(du -sh "$OUT" | cut -f1)):"
cat "$OUT/VERSIONS.txt"

# Test-only tools (devDependencies), kept out of static/ so the app never serves them.
TEST_OUT=tests/browser/vendor
rm -rf -- "$TEST_OUT"
mkdir -p "$TEST_OUT"

# axe-core, injected by tests/browser/conftest.py's axe_check
cp -- "$NM/axe-core/axe.min.js" "$TEST_OUT/"
cp -- "$NM/axe-core/LICENSE" "$TEST_OUT/LICENSE.axe-core"
printf 'axe-core@%s\n' "$(version_of axe-core)" > "$TEST_OUT/VERSIONS.txt"
echo "vendor.sh: refreshed $TEST_OUT: $(cat "$TEST_OUT/VERSIONS.txt")"
