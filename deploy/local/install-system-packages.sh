#!/usr/bin/env bash
# System packages the tests need beyond Python, Java and Maven: Debian's Chromium for the browser tests, and the
# independent checks of issued documents: poppler-utils (pdfsig validates signatures, pdftoppm renders pages) and
# zbar-tools (zbarimg decodes QR codes); and espeak-ng, the speech synthesizer the mall's now-calling display announces
# calls with (its tests check the audio).
# Idempotent; installs only what is missing. Needs root (as on our machines and CI) or passwordless sudo.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdfsig >/dev/null 2>&1 || missing+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
[ ${#missing[@]} -eq 0 ] && exit 0
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
echo "Installing ${missing[*]} from Debian's packages ..."
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
