#!/usr/bin/env bash
# Install the headless browser the Space's browser test drives (tests/space/test_browser.py): Debian's `chromium`,
# used through Playwright's client with `executable_path` (Playwright's own browser download is not used).
# Idempotent: does nothing when a Chromium is already there ($MACM_CHROMIUM, chromium or chromium-browser).
set -euo pipefail

if [ "${MACM_SKIP_BROWSER_TESTS:-}" = "1" ]; then
    echo "MACM_SKIP_BROWSER_TESTS=1: no browser installed, the browser tests are skipped"
    exit 0
fi

for candidate in "${MACM_CHROMIUM:-}" "$(command -v chromium || true)" "$(command -v chromium-browser || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
        echo "chromium: $candidate ($("$candidate" --version 2>/dev/null || echo 'version unknown'))"
        exit 0
    fi
done

if ! command -v apt-get >/dev/null; then
    echo "ci/install_browser.sh: no Chromium and no apt-get: install Chromium and set MACM_CHROMIUM to its path," \
        "or set MACM_SKIP_BROWSER_TESTS=1 to skip the browser tests" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "ci/install_browser.sh: installing chromium needs root (apt-get install chromium)," \
        "or set MACM_SKIP_BROWSER_TESTS=1 to skip the browser tests" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium fonts-liberation >/dev/null
if ! command -v chromium >/dev/null; then
    echo "ci/install_browser.sh: apt-get ran but no chromium is on the PATH" >&2
    exit 1
fi
echo "chromium: $(command -v chromium) ($(chromium --version 2>/dev/null || echo 'version unknown'))"
