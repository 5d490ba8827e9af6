#!/usr/bin/env bash
# Benchmark: Play -> first sound in the real app, through a real audio stack.
#
#   bench/first-sound.sh [SESSION.json]     default: the 32 x 4 min benchmark session
#
# Opens the session in the real window (target/release/stemdeck, under Xvfb with Mesa's
# software GL), playing through cpal's default ALSA device into a PulseAudio null sink
# (bench/null-sink.sh), presses Space with xdotool and times the first sound the sink
# plays (bench/first_sound.py: the sink's monitor recorded with parec). Cold launches
# (an empty peak cache: the overviews being computed) with Play pressed $PRESS_AT
# seconds after the window appears, then a warm launch and $PRESSES - 1 more presses
# after pausing. Also prints what PulseAudio reports of the app's stream (its buffer),
# how soon Pause silences it and the app's peak RSS. All of it twice: with the sink idle
# (nothing else has played into it yet) and awake (another stream playing). Figures
# only; never fails on a slow result. (bench/open.sh measures the same moment without a
# device, at the processor's output.)
# Waveforms: the time until the window has drawn every overview, as the app reports it
# (STEMDECK_TIMING=1), for OPEN_RUNS cold launches and one warm launch that only open the
# session, and for each launch above (overviews computed while it plays).
#
# Environment: BENCH_DIR (default target/bench-session), STEMDECK (default
# target/release/stemdeck, built if missing), PRESSES (default 5), PRESS_AT (default
# "0.3 1 2"), OPEN_RUNS (default 3), APP_LOG (the app's stderr; default: discarded),
# XVFB_LOG (Xvfb's output; default: discarded), BENCH_NICE (as in export-vs-ffmpeg.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BENCH_DIR="${BENCH_DIR:-$ROOT/target/bench-session}"
STEMDECK="${STEMDECK:-$ROOT/target/release/stemdeck}"
PRESSES="${PRESSES:-5}"
say() { printf '[first-sound] %s\n' "$*" >&2; }

if [[ -n ${BENCH_NICE:-} && -z ${BENCH_OWN_SESSION:-} ]]; then
    BENCH_OWN_SESSION=1 exec setsid -w "$0" "$@"
fi
if [[ -n ${BENCH_NICE:-} ]]; then
    echo "$BENCH_NICE" >/proc/self/autogroup 2>/dev/null \
        || say "warning: could not set the autogroup nice to $BENCH_NICE (not root?)"
fi

STEMDECK_EXTRA_APT_PACKAGES="xvfb xauth xdotool libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 libx11-xcb1" \
    source scripts/setup.sh
if [[ ! -x $STEMDECK ]]; then
    say "building the release binary (cargo build --release -p stemdeck)"
    cargo build --release --locked -p stemdeck
fi

SESSION="${1:-}"
if [[ -z $SESSION ]]; then
    BENCH_DIR="$BENCH_DIR" GENERATE_ONLY=1 FULL_SECS=240 "$ROOT/bench/export-vs-ffmpeg.sh"
    SESSION="$BENCH_DIR/session-240s/session.json"
    "$STEMDECK" group "$BENCH_DIR/session-240s/audio" -o "$SESSION" >/dev/null
fi

scratch="$(mktemp -d)"
source bench/null-sink.sh
cleanup() {
    null_sink_stop
    rm -rf "$scratch"
}
trap cleanup EXIT

# A new user: no settings, no peak cache (cold overviews while the first Play happens).
export STEMDECK_CONFIG_DIR="$scratch/config" STEMDECK_DATA_DIR="$scratch/data" \
    STEMDECK_CACHE_DIR="$scratch/cache" LIBGL_ALWAYS_SOFTWARE=1 SINK APP_LOG="${APP_LOG:-}"
cat "$(dirname "$SESSION")"/audio/* >/dev/null 2>&1 || true
say "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "stemdeck: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'no git') ($STEMDECK)"
say "session: $SESSION"
# The same lock as the tests that use the sound server, so nothing plays over them.
exec 9>"${TMPDIR:-/tmp}/stemdeck-pulse-tests.lock"
flock 9
# One X server for the whole run, on a free display it picks itself (-displayfd), its
# output in $XVFB_LOG. -noreset: by default an X server resets when its last client
# leaves, and here every launch is the only client; a launch that connected during that
# reset was dropped ("Failed to open connection to X server", 1 launch in 14-20; see
# docs/performance.md, 2026-12-04).
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset 3>"$scratch/display" >>"${XVFB_LOG:-/dev/null}" 2>&1 &
XVFB=$!
for _ in $(seq 100); do [[ -s $scratch/display ]] && break; sleep 0.05; done
[[ -s $scratch/display ]] || { say "error: Xvfb did not start"; exit 1; }
export DISPLAY=":$(cat "$scratch/display")"
trap 'kill $XVFB 2>/dev/null; cleanup' EXIT
# 1. The sink idle, as after starting the sound server: nothing has played into it.
say "the sink idle (no other stream)"
python3 "$ROOT/bench/first_sound.py" "$STEMDECK" "$SESSION" "$PRESSES"
# 2. The sink awake: another stream (silence, 20 ms latency) plays throughout, as on a
#    desktop where something else is playing. PulseAudio's null sink, idle, sleeps up
#    to its whole latency before it serves a new stream (traced: the app's callbacks
#    stop after the first buffer for 0.4-0.6 s); awake, it serves it at once.
say "the sink awake (another stream playing silence)"
pacat -d "$SINK" --latency-msec=20 --raw --format=s16le --rate=48000 --channels=2 </dev/zero &
KEEP=$!
trap 'kill $KEEP $XVFB 2>/dev/null; cleanup' EXIT
sleep 1
python3 "$ROOT/bench/first_sound.py" "$STEMDECK" "$SESSION" "$PRESSES"
