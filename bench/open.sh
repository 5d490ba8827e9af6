#!/usr/bin/env bash
# Benchmark: a big session opened in the app, through the real code paths
# (crates/ui/examples/open_bench.rs: StemdeckApp, its waveform overviews and its playback
# engine, headless, the processor driven in real time as a device would).
#
#   bench/open.sh
#
# Sessions (generated once by bench/export-vs-ffmpeg.sh's generator, cached in $BENCH_DIR):
#   * 32 tracks x 4 minutes, mixed formats and rates (the export benchmark's session);
#   * 64 tracks x 10 minutes: those 32 tracks made 10 minutes long, each twice (hard
#     links under a second name: 64 files to decode, overview and play).
# For each: open, press Play at once; prints the time to the first non-silent output
# after Play, the time until every waveform overview is ready, cold (empty peak cache)
# and warm (the cache the cold run filled, files in the page cache), and the peak RSS.
# $RUNS runs each (default 3); the load average is printed with every run.
#
# Environment: BENCH_DIR (default target/bench-session), RUNS, OPEN_BENCH (default
# target/release/examples/open_bench, built if missing), STEMDECK (for `stemdeck group`),
# BENCH_NICE (e.g. -10, root: see export-vs-ffmpeg.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$ROOT/target/bench-session}"
RUNS="${RUNS:-3}"
STEMDECK="${STEMDECK:-$ROOT/target/release/stemdeck}"
OPEN_BENCH="${OPEN_BENCH:-$ROOT/target/release/examples/open_bench}"
say() { printf '[open] %s\n' "$*" >&2; }

# BENCH_NICE=-10 (root): as in export-vs-ffmpeg.sh, the benchmark in its own session whose
# scheduler autogroup gets this nice value, so other jobs take less CPU from it.
if [[ -n ${BENCH_NICE:-} && -z ${BENCH_OWN_SESSION:-} ]]; then
    BENCH_OWN_SESSION=1 exec setsid -w "$0" "$@"
fi
if [[ -n ${BENCH_NICE:-} ]]; then
    echo "$BENCH_NICE" >/proc/self/autogroup 2>/dev/null \
        || say "warning: could not set the autogroup nice to $BENCH_NICE (not root?)"
fi

if [[ ! -x $OPEN_BENCH ]]; then
    say "building open_bench (cargo build --release -p stemdeck_ui --example open_bench)"
    (cd "$ROOT" && cargo build --release -p stemdeck_ui --example open_bench)
fi
if [[ ! -x $STEMDECK ]]; then
    (cd "$ROOT" && cargo build --release -p stemdeck)
fi

# The sources: the export benchmark generates them (and only that, with GENERATE_ONLY).
BENCH_DIR="$BENCH_DIR" GENERATE_ONLY=1 FULL_SECS=240 "$ROOT/bench/export-vs-ffmpeg.sh"
BENCH_DIR="$BENCH_DIR" GENERATE_ONLY=1 FULL_SECS=600 "$ROOT/bench/export-vs-ffmpeg.sh"

S32="$BENCH_DIR/session-240s"
"$STEMDECK" group "$S32/audio" -o "$S32/session.json" >/dev/null
S64="$BENCH_DIR/session-64x600s"
if [[ ! -f $S64/.complete ]]; then
    mkdir -p "$S64/audio"
    for f in "$BENCH_DIR/session-600s/audio"/*; do
        name=$(basename "$f")
        ln -f "$f" "$S64/audio/$name"
        ln -f "$f" "$S64/audio/${name%% *} Take 2 ${name#* }"
    done
    touch "$S64/.complete"
fi
"$STEMDECK" group "$S64/audio" -o "$S64/session.json" >/dev/null

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "stemdeck: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'no git')"
for s in "$S32" "$S64"; do
    n=$(find "$s/audio" -type f | wc -l)
    for run in $(seq 1 "$RUNS"); do
        # Cold is the peak cache: the sources stay in the page cache (dropping it would
        # slow every other job on a shared machine), as right after copying a session in.
        cat "$s"/audio/* >/dev/null
        say "$(basename "$s") ($n tracks) run $run, load $(cut -d' ' -f1-3 /proc/loadavg)"
        "$OPEN_BENCH" "$s/session.json" 3 | sed "s/^/[open]   /" >&2
    done
done
