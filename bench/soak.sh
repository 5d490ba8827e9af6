#!/usr/bin/env bash
# The long soak test of the live engine (see docs/performance.md, "Soak"):
#
#   bash bench/soak.sh [SECONDS] [soak options...]      default: 600 s
#
# Plays a 12-track session (auto-grouped, a third of the tracks resampled from 44.1 kHz,
# on a loop) through a PulseAudio null sink for SECONDS while sending 100 random
# mute / solo / seek / regroup commands a second (crates/engine/examples/soak.rs). Prints
# a line a minute and a summary: commands, callbacks, xruns, starved callbacks, RSS at
# start / warm / min / max / end. Exits non-zero on a panic on any thread, RSS growth of
# more than 24 MB after warm-up (--max-growth-mb), or a device that stops calling back.
# Options after SECONDS go to the example: --rate N, --tracks N, --max-growth-mb MB.
#
# Needs PulseAudio (scripts/setup.sh installs it); starts it if it is not running and
# makes a 48 kHz null sink the default device. Holds the same lock as the tests that use
# the sound server, so it never plays over them. The test suite runs a 20-second version
# (tests/tests/soak.rs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

SECS="${1:-600}"
shift || true
# The server stays up afterwards, as before (the process is replaced by exec below).
source bench/null-sink.sh

# --workspace: the features of the test suite's build, so that build is reused.
cargo build --locked -q --workspace --example soak
EXE="$(cargo build --locked -q --workspace --example soak --message-format json 2>/dev/null |
  grep -o '"executable":"[^"]*soak[^"]*"' | tail -1 | cut -d'"' -f4)"
echo "machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
exec flock "${TMPDIR:-/tmp}/stemdeck-pulse-tests.lock" "$EXE" "$SECS" "$@"
