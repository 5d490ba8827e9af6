#!/usr/bin/env bash
# Takes docs/screenshot.png: the real Stemdeck window on the bundled demo session,
# under Xvfb with Mesa's software OpenGL (no GPU or display needed), while playing.
#   bash scripts/screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
STEMDECK_EXTRA_APT_PACKAGES="xvfb xauth xdotool imagemagick libgl1-mesa-dri libegl1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6" \
  source scripts/setup.sh
out="${1:-docs/screenshot.png}"
cargo build --release --locked -p stemdeck
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export STEMDECK_CONFIG_DIR="$scratch/config" STEMDECK_DATA_DIR="$scratch/data" STEMDECK_CACHE_DIR="$scratch/cache"
export LIBGL_ALWAYS_SOFTWARE=1
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  target/release/stemdeck >"$0/app.log" 2>&1 &
  app=$!
  sleep 6
  # Click Play (Xvfb has no window manager to focus the window for a key), so the
  # meters and the playhead show.
  if command -v xdotool >/dev/null; then xdotool mousemove 50 40 click 1 || true; sleep 4; fi
  import -window root "$0/shot.png"
  kill $app
' "$scratch"
convert "$scratch/shot.png" -crop 1280x800+0+0 +repage "$out"
echo "wrote $out"
