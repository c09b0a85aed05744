#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (Playwright
# drives it; `playwright install` is never used). Idempotent: does nothing when it is there.
#
#   bash scripts/ensure-chromium.sh      (called by .ci/run and `make test`)
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "ensure-chromium.sh: /usr/bin/chromium is missing; install the Debian package" \
         "'chromium' as root (apt-get install chromium)" >&2
    exit 1
fi

echo "ensure-chromium.sh: installing Debian's chromium for the browser tests"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version 2>/dev/null
