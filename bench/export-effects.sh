#!/usr/bin/env bash
# Benchmark (prints figures; not a test): the export cost of effects, issue 12's session.
#
#   bench/export-effects.sh
#
# Builds (in $BENCH_DIR) two sessions from the demo's nine tracks (assets/demo) repeated
# to 128 tracks, in 8 stems of 16 tracks:
#   fx.stemdeck.json     every track with a 4-band EQ (high-pass, low shelf, peak, high
#                        shelf) and a compressor, every stem with a reverb, the master
#                        with a compressor and a limiter (5 ms look-ahead)
#   plain.stemdeck.json  the same tracks and stems without any effect
# then times, interleaved in the same run, $RUNS times each:
#   A. stemdeck export fx.stemdeck.json    --effects both --format wav24 --master
#      (8 wet + 8 dry stems + master, one decode; null tests of both)
#   B. stemdeck export plain.stemdeck.json --format wav24 --master (8 stems + master)
# and prints the median wall and CPU times and the ratio A / B.
#
# Environment: BENCH_DIR (default target/bench-effects), RUNS (default 3),
#   STEMDECK (default target/release/stemdeck; build it first with
#   `cargo build --release -p stemdeck`).
# Needs: python3, GNU time (/usr/bin/time).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$ROOT/target/bench-effects}"
RUNS="${RUNS:-3}"
STEMDECK="${STEMDECK:-$ROOT/target/release/stemdeck}"

say() { printf '[bench] %s\n' "$*" >&2; }
[[ -x $STEMDECK ]] || { say "no $STEMDECK: cargo build --release -p stemdeck"; exit 1; }
[[ -x /usr/bin/time ]] || { say "needs GNU time (/usr/bin/time)"; exit 1; }
mkdir -p "$BENCH_DIR"

python3 - "$ROOT/assets/demo" "$BENCH_DIR" <<'PY'
import json, os, sys
demo, out = sys.argv[1], sys.argv[2]
src = json.load(open(os.path.join(demo, "demo.stemdeck.json")))
files = [os.path.abspath(os.path.join(demo, t["path"])) for t in src["tracks"]]
TRACKS, STEMS = 128, 8
eq = {"type": "eq", "bypass": False, "bands": [
    {"shape": "highpass", "freq_hz": 40, "gain_db": 0, "q": 0.707},
    {"shape": "lowshelf", "freq_hz": 120, "gain_db": 2, "q": 0.707},
    {"shape": "peak", "freq_hz": 2500, "gain_db": -3, "q": 1.4},
    {"shape": "highshelf", "freq_hz": 8000, "gain_db": 1.5, "q": 0.707}]}
comp = {"type": "compressor", "bypass": False, "threshold_db": -24, "ratio": 3,
        "knee_db": 6, "attack_ms": 10, "release_ms": 120, "makeup_db": 0}
reverb = {"type": "reverb", "bypass": False, "decay_s": 1.8, "predelay_ms": 20,
          "damping": 0.5, "mix": 0.2}
master_fx = [
    {"type": "compressor", "bypass": False, "threshold_db": -12, "ratio": 2,
     "knee_db": 6, "attack_ms": 30, "release_ms": 200, "makeup_db": 0},
    {"type": "limiter", "bypass": False, "ceiling_db": -1, "release_ms": 80,
     "lookahead_ms": 5}]
def session(fx):
    tracks = []
    for i in range(TRACKS):
        t = {"id": i + 1, "name": f"T{i + 1:03}", "path": files[i % len(files)],
             "gain_db": -22.0}
        if fx:
            t["effects"] = [eq, comp]
        tracks.append(t)
    per = TRACKS // STEMS
    stems = []
    for k in range(STEMS):
        s = {"id": k + 1, "name": f"Stem {k + 1}", "color": "#3E63DD",
             "tracks": list(range(k * per + 1, (k + 1) * per + 1))}
        if fx:
            s["effects"] = [reverb]
        stems.append(s)
    doc = {"format": "stemdeck-session", "version": 2 if fx else 1,
           "sample_rate": src["sample_rate"], "song": {"title": "Bench"},
           "tracks": tracks, "stems": stems}
    if fx:
        doc["master"] = {"gain_db": 0, "effects": master_fx}
    return doc
for name, fx in [("fx", True), ("plain", False)]:
    with open(os.path.join(out, f"{name}.stemdeck.json"), "w") as f:
        json.dump(session(fx), f, indent=1)
PY

# One timed export: prints "wall cpu" (seconds).
timed() {
    local session=$1; shift
    local log="$BENCH_DIR/time.log"
    /usr/bin/time -f '%e %U %S' -o "$log" \
        "$STEMDECK" export "$BENCH_DIR/$session.stemdeck.json" --format wav24 --master \
        --force --no-sheet --trim auto --out "$BENCH_DIR/out-$session" "$@" >/dev/null
    awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$log"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -a fx_wall fx_cpu plain_wall plain_cpu
for ((r = 1; r <= RUNS; r++)); do
    say "run $r/$RUNS"
    read -r w c < <(timed fx --effects both); fx_wall+=("$w"); fx_cpu+=("$c")
    read -r w c < <(timed plain); plain_wall+=("$w"); plain_cpu+=("$c")
done
fxw=$(printf '%s\n' "${fx_wall[@]}" | median); fxc=$(printf '%s\n' "${fx_cpu[@]}" | median)
plw=$(printf '%s\n' "${plain_wall[@]}" | median); plc=$(printf '%s\n' "${plain_cpu[@]}" | median)
echo "Export of 128 tracks (the demo's tracks repeated) in 8 stems, wav24 + master, $(nproc) cores, median of $RUNS:"
printf '  %-52s %8s s wall %8s s CPU\n' "effects, --effects both (8 wet + 8 dry + master)" "$fxw" "$fxc"
printf '  %-52s %8s s wall %8s s CPU\n' "no effects (8 stems + master)" "$plw" "$plc"
awk -v a="$fxw" -v b="$plw" -v c="$fxc" -v d="$plc" \
    'BEGIN { printf "  ratio: %.2fx wall, %.2fx CPU\n", a / b, c / d }'
