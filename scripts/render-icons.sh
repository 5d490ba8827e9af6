#!/usr/bin/env bash
# Render the app icon (assets/linux/org.example.stemdeck.svg) to the PNG sizes of the
# hicolor theme, committed in assets/linux/icons/ (the package ships them; menus and
# docks that cannot draw SVG use them). Run after changing the SVG:
#   bash scripts/render-icons.sh
set -euo pipefail
cd "$(dirname "$0")/.."
STEMDECK_EXTRA_APT_PACKAGES="librsvg2-bin" source scripts/setup.sh
svg=assets/linux/org.example.stemdeck.svg
for size in 16 22 24 32 48 64 128 256 512; do
  dir="assets/linux/icons/${size}x${size}"
  mkdir -p "$dir"
  rsvg-convert --width "$size" --height "$size" "$svg" --output "$dir/org.example.stemdeck.png"
  echo "$dir/org.example.stemdeck.png"
done
