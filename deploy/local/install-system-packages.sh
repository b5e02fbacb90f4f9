#!/usr/bin/env bash
# System packages the tests need beyond Python, Java and Maven: Debian's Chromium for the browser tests.
# Idempotent; installs only what is missing. Needs root (as on our machines and CI) or passwordless sudo.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
echo "Installing ${missing[*]} from Debian's packages ..."
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
