#!/usr/bin/env bash
# Debian's Chromium for the console page's headless browser test (test/realtime/console.browser.test.ts).
# playwright-core drives /usr/bin/chromium; no browser is downloaded. Skips when already installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
echo "installed: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
