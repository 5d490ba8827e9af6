#!/usr/bin/env bash
# The effects session of issue 12 through a real audio stack (see docs/performance.md,
# "Live engine with effects"):
#
#   bash bench/engine-device.sh [SECONDS]        default: 60 s
#
# 128 tracks in 8 stems, each track with a 4-band EQ and a compressor, each stem with a
# reverb, a compressor and a limiter on the master, played at 48 kHz through cpal's
# default device into a PulseAudio null sink (crates/engine/examples/engine_bench.rs,
# mode `device`). Prints xruns, starved callbacks, device errors and the callback load,
# and the level recorded from the sink's monitor (so silence would show). A benchmark:
# it prints figures and never fails on a slow result.
#
# Needs PulseAudio, pulseaudio-utils and libasound2-plugins; starts PulseAudio if it is
# not running (and stops it again at the end) and makes a 48 kHz null sink the default.
# Holds the same lock as the tests that use the sound server, so it never plays over them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECS="${1:-60}"
REC_PID=""
WAV="$(mktemp --suffix=.wav)"
source bench/null-sink.sh
cleanup() {
  [[ -n "$REC_PID" ]] && kill "$REC_PID" 2>/dev/null || true
  null_sink_stop
  rm -f "$WAV"
}
trap cleanup EXIT

cargo build --release -q -p stemdeck_engine --example engine_bench
EXE="$ROOT/target/release/examples/engine_bench"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
# Generate the sources first (not timed), then play with the recorder running.
STEMDECK_BENCH_DIR="${STEMDECK_BENCH_DIR:-${TMPDIR:-/tmp}/stemdeck-engine-bench}" \
  "$EXE" device 0 >/dev/null
parec -d "$SINK.monitor" --file-format=wav "$WAV" &
REC_PID=$!
flock "${TMPDIR:-/tmp}/stemdeck-pulse-tests.lock" "$EXE" device "$SECS"
kill "$REC_PID" 2>/dev/null || true
wait "$REC_PID" 2>/dev/null || true
REC_PID=""
if command -v sox >/dev/null; then
  echo "recorded from $SINK.monitor:"
  sox "$WAV" -n stat 2>&1 | grep -E "Length|Maximum amplitude|RMS +amplitude" || true
fi
