#!/usr/bin/env bash
# The browser tests drive Debian's chromium with Playwright (Playwright's own browser download
# is not reachable from these machines). Install chromium if it is missing and we can.
set -uo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "browser: chromium is installed"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "browser: installing Debian's chromium"
  apt-get install -y -qq chromium >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } ||
    echo "browser: could not install chromium; its tests will skip (or fail under CI=true)" >&2
else
  echo "browser: chromium is missing; its tests will skip (or fail under CI=true)" >&2
fi
exit 0
