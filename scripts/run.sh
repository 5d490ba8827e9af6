#!/usr/bin/env bash
# Build Stemdeck (release) and open the app on its bundled demo session:
#   bash scripts/run.sh            # the app, on the demo session
#   bash scripts/run.sh ARGS...    # any stemdeck command, e.g. `export SESSION.json`
set -euo pipefail
cd "$(dirname "$0")/.."
# The window's runtime libraries (OpenGL via Mesa, X11/Wayland input).
STEMDECK_EXTRA_APT_PACKAGES="libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 libx11-xcb1" \
  source scripts/setup.sh
cargo build --release --locked -p stemdeck
if [ "$#" -eq 0 ]; then
  exec target/release/stemdeck demo
fi
exec target/release/stemdeck "$@"
