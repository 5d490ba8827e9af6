#!/usr/bin/env bash
# Benchmarks of the live engine and of the UI frame time (see docs/performance.md,
# sections "Live engine" and "UI frame time").
#
#   bench/engine.sh
#
# 1. cargo run --release -p stemdeck_engine --example engine_bench
#      callback cost per 512-frame block for 16/64/128/256 tracks fed by the real reader
#      thread; the same for issue 12's effects session (128 tracks in 8 stems, EQ and
#      compressor per track, reverb per stem, master compressor and limiter) beside it
#      dry (ENGINE_MODE=effects for that alone); reader throughput for 64 tracks, and RSS
#      of a 64-track × 10-minute session. That effects session through a real device
#      (PulseAudio null sink) is bench/engine-device.sh.
#      Sources (24-bit WAV, about 0.6 GB) are generated once into $STEMDECK_BENCH_DIR
#      (default: $TMPDIR/stemdeck-engine-bench).
# 2. cargo run --release -p stemdeck_ui --example frame_bench 64 180
#      CPU time per UI frame, 64 tracks, waveforms shown, while playing (headless egui).
#
# Environment:
#   ENGINE_MODE   all | cost | effects | reader | rss  (default: all)
#   UI_TRACKS     tracks for frame_bench               (default: 64)
#   UI_SECONDS    song length for frame_bench          (default: 180)
#   SKIP_UI=1     run the engine benchmark only
#   SKIP_ENGINE=1 run the UI benchmark only
#
# Both are benchmarks: they print figures and never fail on a slow result. The machine
# and its load average are printed before each, since other jobs skew the numbers.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ENGINE_MODE="${ENGINE_MODE:-all}"
UI_TRACKS="${UI_TRACKS:-64}"
UI_SECONDS="${UI_SECONDS:-180}"

machine() {
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "uptime: $(uptime)"
}

echo "== Building (release)"
if [[ "${SKIP_UI:-0}" != 1 ]]; then
    cargo build --release -p stemdeck_ui --example frame_bench
fi
if [[ "${SKIP_ENGINE:-0}" != 1 ]]; then
    cargo build --release -p stemdeck_engine --example engine_bench
fi

if [[ "${SKIP_ENGINE:-0}" != 1 ]]; then
    echo
    echo "== cargo run --release -p stemdeck_engine --example engine_bench $ENGINE_MODE"
    machine
    cargo run --release -q -p stemdeck_engine --example engine_bench -- "$ENGINE_MODE"
fi

if [[ "${SKIP_UI:-0}" != 1 ]]; then
    echo
    echo "== cargo run --release -p stemdeck_ui --example frame_bench $UI_TRACKS $UI_SECONDS"
    machine
    cargo run --release -q -p stemdeck_ui --example frame_bench -- "$UI_TRACKS" "$UI_SECONDS"
    echo "uptime after: $(uptime)"
fi
