#!/usr/bin/env bash
# Debian's Chromium for the console's end-to-end tests (tests/console) and screenshots
# (apps/console/scripts/screenshots.ts). A no-op when /usr/bin/chromium is already there.
# Never `playwright install`: the tests drive this system browser through playwright-core.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-chromium: /usr/bin/chromium is missing and this user cannot run apt-get (no root, no sudo)." >&2
    echo "install-chromium: install it with: apt-get install -y chromium" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
test -x /usr/bin/chromium
echo "install-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium installed)"
