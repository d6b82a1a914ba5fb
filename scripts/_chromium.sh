#!/usr/bin/env bash
# Make sure a headless browser is present for tests/ops/test_docs_browser.py: installs Debian's
# `chromium` package when /usr/bin/chromium is missing. Idempotent and quiet; a failed install
# prints why and returns 0 so scripts/test still runs everything else (the browser test then
# fails in CI and skips locally). Called by scripts/test; can also be run on its own.

_claimdesk_chromium() {
  local browser=/usr/bin/chromium
  [ -x "$browser" ] && return 0

  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      echo "scripts/_chromium.sh: $browser is missing and we are not root (no sudo);" \
        "install Debian's chromium package to run the browser test." >&2
      return 0
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/_chromium.sh: $browser is missing and apt-get is not available;" \
      "install Chromium to run the browser test." >&2
    return 0
  fi

  echo "scripts/_chromium.sh: installing chromium for the browser test..." >&2
  local log
  log="$(mktemp)"
  if $sudo apt-get update -qq >"$log" 2>&1 &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      chromium >>"$log" 2>&1 &&
    [ -x "$browser" ]; then
    rm -f "$log"
    return 0
  fi
  echo "scripts/_chromium.sh: could not install chromium; the browser test will fail in CI." >&2
  tail -n 20 "$log" >&2
  rm -f "$log"
  return 0
}

_claimdesk_chromium
