#!/usr/bin/env bash
# The deploy/ tests check the shipped files with the real tools: shellcheck, systemd-analyze,
# nginx -t and mosquitto. Install what is missing from Debian's packages, without starting
# nginx (a policy-rc.d refuses service starts while the packages install).
set -uo pipefail
missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
if [ ${#missing[@]} -eq 0 ]; then
  echo "deploy tools: installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "deploy tools: ${missing[*]} missing; their tests will skip (or fail under CI=true)" >&2
  exit 0
fi
echo "deploy tools: installing ${missing[*]}"
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; } ||
  echo "deploy tools: could not install ${missing[*]}" >&2
[ "$made_policy" = 1 ] && rm -f "$policy"
exit 0
