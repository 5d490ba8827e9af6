#!/usr/bin/env bash
# Installs what Stemdeck needs on a fresh Debian/Ubuntu machine (idempotent, quick when
# everything is there). Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail

# Build: ALSA headers (cpal), pkg-config. Tests: ffmpeg and sox as independent peers;
# PulseAudio with a null sink as a real-time audio device without a sound card;
# poppler-utils (pdftotext) to read the song information sheet; jq for
# scripts/licenses.sh (the About box's licence list and its test).
STEMDECK_APT_PACKAGES=(pkg-config libasound2-dev ffmpeg sox libsox-fmt-all pulseaudio pulseaudio-utils libasound2-plugins poppler-utils jq)

missing=()
for p in "${STEMDECK_APT_PACKAGES[@]}" ${STEMDECK_EXTRA_APT_PACKAGES:-}; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: Rust is required: install it from https://rustup.rs, then run this again" >&2
  exit 1
fi
