#!/usr/bin/env bash
# Benchmark: `stemdeck export` against ffmpeg doing the same job as one filter graph.
#
#   bench/export-vs-ffmpeg.sh
#
# 1. Generates (once, cached in $BENCH_DIR) a 32-track session of mixed formats and
#    rates: WAV 24-bit 48k, WAV 16-bit 44.1k, FLAC 48k (24-bit) and 44.1k (16-bit),
#    MP3 320k 44.1k, Ogg Vorbis 48k; mono and stereo; names a real session would have,
#    so that `stemdeck group` makes the 4 stems Drums / Bass / Vocals / Instruments.
#    Content: noise + a vibrato'd tone under a tremolo (ffmpeg lavfi), so the lossy and
#    lossless codecs work on changing, non-trivial audio. The same tracks are made at
#    the full length (4 min) and at 1 min, to see whether memory grows with song length.
# 2. Builds target/release/stemdeck if missing, runs `stemdeck group`, then times, in
#    the same run and interleaved (so a disturbance hits both tools alike), $RUNS times:
#      A. stemdeck export SESSION --format wav24 --master --force --out DIR
#         (the full delivery: stems + master, EBU R128 loudness and true peak of every
#         file, the null test reading the files back, the song information sheet)
#      B. the same with --no-sheet (no PDF/JSON; the loudness, true peak and null test,
#         which the command's summary prints, are still done)
#      C. ffmpeg: all inputs -> aresample=48000 -> mono panned to both channels at unity
#         -> amix=normalize=0 per stem (groups read from the session JSON) -> asplit ->
#         amix of the 4 stems as master -> 5 x pcm_s24le WAV: decode + mix + write only
#      D. the same ffmpeg graph with ebur128=peak=true+sample on each of the 5 outputs:
#         ffmpeg also measuring what Stemdeck measures (loudness, true and sample peak)
#      E. stemdeck export on the 1-minute session (memory vs song length)
#      F. with STEMDECK_BEFORE set: A with that (older) binary, for a before/after
#      G. decoding only, the floor under any export of this session: Stemdeck's decoder
#         (crates/audio/examples/decode_bench.rs, one thread, every file in turn; and
#         --parallel: every file on every core at once, the floor in wall time on these
#         cores) and ffmpeg decoding the same 32 files to float in one process
#      H. the float export (--format wav32f --master) and the trimmed 24-bit one: the
#         session with every stem at +12 dB (so the mix clips), --format wav24 --master
#         --trim auto; beside it the same command on the session as it is (no trim
#         needed): the trim's cost. With STEMDECK_BEFORE, the trimmed one with that
#         binary too. Printed side by side with the decoding floor and ffmpeg's job.
#    and prints the medians: wall time, x realtime, peak RSS (/usr/bin/time -v), CPU time,
#    and the speed ratios: stems only (C / B) and full delivery (D / A).
#
# Environment:
#   BENCH_DIR   cache + output folder          (default: target/bench-session)
#   RUNS        timed runs per measurement     (default: 3; the median is reported)
#   FULL_SECS   length of the long session     (default: 240)
#   SHORT_SECS  length of the short session    (default: 60)
#   STEMDECK    binary to test                 (default: target/release/stemdeck,
#                                               built with cargo if missing)
#   STEMDECK_BEFORE  an older binary to time as well (e.g. a copy of the binary
#               before a change), in the same run: before/after under the same load
#   DROP_CACHES set (root): before every timed run, empty the page cache and read the
#               sources back into it, so every run starts from the same memory state. On
#               a VM that reclaims idle memory (this project's machine), pages the page
#               cache takes for the first time cost 2-5 ns a byte to write: the trim's
#               460 MB spill then costs 1-2 s of system time that it does not cost on
#               reused pages (docs/performance.md, 2026-12-03). Default: off.
#   GENERATE_ONLY  set: only generate the $FULL_SECS-second session and stop
#               (bench/open.sh uses this)
#   BENCH_NICE  e.g. -10 (needs root): on a shared machine, run the benchmark in its own
#               session (setsid) and give that session's scheduler autogroup this nice
#               value, so other jobs take less CPU from the timed runs. (Plain `nice`
#               does nothing against jobs of other sessions when the kernel groups tasks
#               per session, /proc/sys/kernel/sched_autogroup_enabled = 1.) Default: off.
#
# Needs: ffmpeg (libmp3lame, libvorbis), ffprobe, python3, GNU time (/usr/bin/time;
# installed with apt-get when missing and running as root), cargo if the binary is missing.
# Disk: about 1.3 GB for the sources, 0.7 GB for the outputs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$ROOT/target/bench-session}"
RUNS="${RUNS:-3}"
FULL_SECS="${FULL_SECS:-240}"
SHORT_SECS="${SHORT_SECS:-60}"
STEMDECK="${STEMDECK:-$ROOT/target/release/stemdeck}"
STEMDECK_BEFORE="${STEMDECK_BEFORE:-}"
BENCH_NICE="${BENCH_NICE:-}"
# Bump when the generated material changes, so old caches are not reused.
GEN_VERSION=2

say() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

if [[ -n $BENCH_NICE ]]; then
    if [[ -z ${BENCH_OWN_SESSION:-} ]]; then
        # A new session is a new autogroup, holding only this benchmark.
        BENCH_OWN_SESSION=1 exec setsid -w "$0" "$@"
    fi
    if [[ $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null) == 1 ]]; then
        echo "$BENCH_NICE" >/proc/self/autogroup 2>/dev/null \
            || say "warning: could not set the autogroup nice to $BENCH_NICE (not root?)"
        say "scheduler: $(cat /proc/self/autogroup)"
    fi
fi

# --------------------------------------------------------------------------- tools
for tool in ffmpeg ffprobe python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
if [[ ! -x /usr/bin/time ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "/usr/bin/time missing: installing the Debian package 'time'"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
    else
        die "/usr/bin/time (GNU time) is missing: apt-get install time"
    fi
fi
ENCODERS="$(ffmpeg -hide_banner -encoders 2>/dev/null)"
for enc in libmp3lame libvorbis flac; do
    grep -qw "$enc" <<<"$ENCODERS" || die "ffmpeg lacks the $enc encoder"
done

FF=(ffmpeg -hide_banner -loglevel error -nostdin -y)

# --------------------------------------------------------------------------- tracks
# name | format | channels | tone Hz | noise colour | tremolo Hz
# Formats: w24 = WAV 24-bit 48k, w16 = WAV 16-bit 44.1k, f48 = FLAC 24-bit 48k,
#          f44 = FLAC 16-bit 44.1k, mp3 = MP3 320k 44.1k, ogg = Ogg Vorbis q6 48k.
# 18 tracks at 48 kHz, 14 at 44.1 kHz: the session rate (the majority) is 48 kHz.
TRACKS=(
    "01 Kick|w24|1|55|brown|2"
    "02 Snare Top|w24|1|190|white|1"
    "03 Snare Bottom|w16|1|210|white|1"
    "04 Hat|f48|1|7000|white|8"
    "05 OH L|w24|1|3500|pink|4"
    "06 OH R|w24|1|3700|pink|4"
    "07 Room|f48|2|400|pink|2"
    "08 Tom 1|w16|1|110|brown|0.5"
    "09 Tom 2|w16|1|82|brown|0.5"
    "10 Perc|ogg|2|1200|white|6"
    "11 Shaker|mp3|1|5000|white|8"
    "12 Clap|f44|1|1500|white|1"
    "13 Bass DI|w24|1|41|brown|2"
    "14 Bass Amp|f48|1|82|brown|2"
    "15 Sub|w24|1|45|brown|0.5"
    "16 Lead Vox|w24|1|220|pink|3"
    "17 Lead Vox Dbl|f48|1|221|pink|3"
    "18 BGV 1|f44|1|330|pink|1.5"
    "19 BGV 2|f44|1|392|pink|1.5"
    "20 BGV 3|mp3|1|440|pink|1.5"
    "21 BGV 4|mp3|1|523|pink|1.5"
    "22 Adlib|ogg|1|262|pink|0.7"
    "23 Gtr L|w16|1|147|pink|4"
    "24 Gtr R|w16|1|148|pink|4"
    "25 Keys|f48|2|262|pink|2"
    "26 Piano|w24|2|131|pink|1"
    "27 Rhodes|f44|2|175|pink|3"
    "28 Pad|ogg|2|349|pink|0.25"
    "29 Synth Lead|mp3|2|659|white|5"
    "30 Strings|f48|2|294|pink|0.3"
    "31 Brass|mp3|2|466|pink|2"
    "32 Organ|ogg|2|196|pink|6"
)

format_args() { # format -> ext and ffmpeg output options
    case "$1" in
        w24) echo "wav|48000|-c:a pcm_s24le" ;;
        w16) echo "wav|44100|-c:a pcm_s16le" ;;
        f48) echo "flac|48000|-c:a flac -sample_fmt s32 -bits_per_raw_sample 24" ;;
        f44) echo "flac|44100|-c:a flac -sample_fmt s16" ;;
        mp3) echo "mp3|44100|-c:a libmp3lame -sample_fmt s16p -b:a 320k" ;;
        ogg) echo "ogg|48000|-c:a libvorbis -q:a 6" ;;
        *) die "unknown format $1" ;;
    esac
}

# One channel of content: noise + a frequency-modulated tone (5 Hz vibrato, +-3 x 5 Hz),
# summed, under a tremolo. (Not ffmpeg's `vibrato` filter: feeding it into amix gives
# garbage samples in ffmpeg 5.1.) About -26 dBFS peak per track.
channel_graph() { # rate secs tone colour trem seed label
    local r=$1 d=$2 f=$3 c=$4 t=$5 s=$6 out=$7
    printf 'anoisesrc=d=%s:c=%s:r=%s:a=0.025:seed=%s[n%s];' "$d" "$c" "$r" "$s" "$out"
    printf 'aevalsrc=0.025*sin(2*PI*%s*t+3*sin(2*PI*5*t)):s=%s:d=%s[s%s];' "$f" "$r" "$d" "$out"
    printf '[n%s][s%s]amix=inputs=2:normalize=0,tremolo=f=%s:d=0.7[%s]' "$out" "$out" "$t" "$out"
}

peak_dbfs() { # file -> overall peak level in dBFS
    ffmpeg -hide_banner -nostdin -i "$1" -af astats=measure_perchannel=none:measure_overall=Peak_level \
        -f null - 2>&1 | sed -n 's/.*Peak level dB: *//p' | tail -n1
}

generate_session() { # secs dir
    local secs=$1 dir=$2 stamp="$2/.complete-v$GEN_VERSION"
    if [[ -f $stamp ]]; then
        say "using cached ${secs}s session in $dir"
        return
    fi
    say "generating the ${secs}s session in $dir (32 tracks; takes a while, done once)"
    mkdir -p "$dir/audio"
    local i=0 line name fmt ch tone colour trem ext rate opts graph target peak
    for line in "${TRACKS[@]}"; do
        i=$((i + 1))
        IFS='|' read -r name fmt ch tone colour trem <<<"$line"
        IFS='|' read -r ext rate opts <<<"$(format_args "$fmt")"
        target="$dir/audio/$name.$ext"
        if [[ -f $target ]]; then continue; fi
        if [[ $ch == 1 ]]; then
            graph="$(channel_graph "$rate" "$secs" "$tone" "$colour" "$trem" "$i" out)"
        else
            graph="$(channel_graph "$rate" "$secs" "$tone" "$colour" "$trem" "$i" l);"
            graph+="$(channel_graph "$rate" "$secs" "$(python3 -c "print(round($tone*1.013,2))")" \
                "$colour" "$trem" "$((i + 1000))" r);"
            graph+="[l][r]join=inputs=2:channel_layout=stereo[out]"
        fi
        say "  $(printf '%-16s' "$name") $fmt ${ch}ch ${rate} Hz"
        # shellcheck disable=SC2086 # opts is a list of options
        "${FF[@]}" -filter_complex "$graph" -map '[out]' -t "$secs" -ar "$rate" -ac "$ch" \
            $opts -map_metadata -1 "$dir/audio/.tmp.$ext"
        # Guard against generator bugs: every track must stay well below full scale.
        peak=$(peak_dbfs "$dir/audio/.tmp.$ext")
        python3 -c "import sys; sys.exit(not float('$peak') < -12)" \
            || die "$name came out with a peak of $peak dBFS: generator bug"
        mv "$dir/audio/.tmp.$ext" "$target"
    done
    touch "$stamp"
}

FULL="$BENCH_DIR/session-${FULL_SECS}s"
SHORT="$BENCH_DIR/session-${SHORT_SECS}s"
if [[ -n ${GENERATE_ONLY:-} ]]; then
    # Only the sources (bench/open.sh uses them).
    generate_session "$FULL_SECS" "$FULL"
    exit 0
fi

# --------------------------------------------------------------------------- binary
if [[ ! -x $STEMDECK ]]; then
    say "building the release binary (cargo build --release -p stemdeck)"
    (cd "$ROOT" && cargo build --release -p stemdeck)
fi
[[ -x $STEMDECK ]] || die "no binary at $STEMDECK"
DECODE_BENCH="${DECODE_BENCH:-$ROOT/target/release/examples/decode_bench}"
if [[ ! -x $DECODE_BENCH ]]; then
    say "building the decoding benchmark (cargo build --release -p stemdeck_audio --example decode_bench)"
    (cd "$ROOT" && cargo build --release -p stemdeck_audio --example decode_bench)
fi
if [[ -n $(find "$ROOT/crates" -name '*.rs' -newer "$STEMDECK" -print -quit 2>/dev/null) ]]; then
    say "warning: some sources are newer than $STEMDECK (rebuild with cargo build --release -p stemdeck)"
fi

generate_session "$FULL_SECS" "$FULL"
generate_session "$SHORT_SECS" "$SHORT"

# --------------------------------------------------------------------------- sessions
for dir in "$FULL" "$SHORT"; do
    say "stemdeck group $dir/audio -o $dir/session.json"
    "$STEMDECK" group "$dir/audio" -o "$dir/session.json" >"$dir/group.txt"
done
cat "$FULL/group.txt" >&2
# The same session with every stem at +12 dB: its mix clips a 24-bit file, so
# --trim auto has to trim (H).
python3 - "$FULL/session.json" "$FULL/session-loud.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
for st in s["stems"]:
    st["gain_db"] = 12.0
json.dump(s, open(sys.argv[2], "w"), indent=2)
EOF

# Check the grouping (4 stems, all 32 tracks) and that every track is at the defaults
# (0 dB, centre, not muted), which is what the ffmpeg graph below reproduces.
python3 - "$FULL/session.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
stems = [(st["name"], len(st["tracks"])) for st in s["stems"] if st["tracks"]]
n = sum(c for _, c in stems)
print("[bench] stems: " + ", ".join(f"{a} ({c})" for a, c in stems) + f"; session rate {s['sample_rate']} Hz", file=sys.stderr)
assert len(stems) == 4 and n == 32, f"expected 4 stems holding 32 tracks, got {stems}"
assert s["sample_rate"] == 48000, s["sample_rate"]
for t in s["tracks"]:
    assert t.get("gain_db", 0) == 0 and t.get("pan", 0) == 0 and not t.get("mute") and not t.get("solo"), t
for st in s["stems"]:
    assert st.get("gain_db", 0) == 0 and not st.get("mute") and not st.get("solo"), st
EOF

# The ffmpeg command for a session: one filter graph, 5 outputs. NUL-separated argv.
# With "measure" as the third argument, every output also goes through ebur128 (EBU R128
# loudness, true peak and sample peak), as Stemdeck measures every file it writes.
ffmpeg_cmd() { # session.json outdir [measure]
    python3 - "$1" "$2" "${3:-}" <<'EOF'
import json, os, subprocess, sys
session, out, measure = sys.argv[1], sys.argv[2], sys.argv[3] == "measure"
meter = ",ebur128=peak=true+sample:framelog=verbose" if measure else ""
s = json.load(open(session))
base = os.path.dirname(os.path.abspath(session))
rate = s["sample_rate"]
tracks = {t["id"]: os.path.join(base, t["path"]) for t in s["tracks"]}
stems = [st for st in s["stems"] if st["tracks"]]
args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
graph, k = [], 0
for si, st in enumerate(stems):
    labels = []
    for tid in st["tracks"]:
        path = tracks[tid]
        ch = int(subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
             "stream=channels", "-of", "csv=p=0", path],
            check=True, capture_output=True, text=True).stdout.split()[0])
        args += ["-i", path]
        # Mono at centre: the same signal at unity in both channels (docs/mixing.md).
        to_stereo = "pan=stereo|c0=c0|c1=c0" if ch == 1 else "aformat=channel_layouts=stereo"
        graph.append(f"[{k}:a]aresample={rate},{to_stereo}[t{k}]")
        labels.append(f"[t{k}]")
        k += 1
    graph.append(f"{''.join(labels)}amix=inputs={len(labels)}:normalize=0:duration=longest,"
                 f"asplit=2[s{si}][m{si}]")
    graph.append(f"[s{si}]anull{meter}[stem{si}]")
graph.append("".join(f"[m{si}]" for si in range(len(stems)))
             + f"amix=inputs={len(stems)}:normalize=0:duration=longest{meter}[master]")
args += ["-filter_complex", ";".join(graph)]
for si, st in enumerate(stems):
    args += ["-map", f"[stem{si}]", "-c:a", "pcm_s24le", os.path.join(out, f"{si + 1:02d} {st['name']}.wav")]
args += ["-map", "[master]", "-c:a", "pcm_s24le", os.path.join(out, "00 Master.wav")]
sys.stdout.write("\0".join(args) + "\0")
EOF
}

# --------------------------------------------------------------------------- timing
RESULTS="$BENCH_DIR/results.tsv"
LOGS="$BENCH_DIR/logs"
OUT="$BENCH_DIR/out"
mkdir -p "$LOGS" "$OUT"
printf 'tool\trun\twall_s\trss_kb\tuser_s\tsys_s\tload1\taudio_s\tothers_pct\tpreempted\n' >"$RESULTS"

measure() { # tool run audio_secs outdir -- command...
    local tool=$1 run=$2 secs=$3 outdir=$4
    shift 5
    rm -rf "$outdir" && mkdir -p "$outdir"
    sync
    if [[ -n ${DROP_CACHES:-} ]]; then
        # Every run from the same memory state: the page cache emptied (the earlier
        # runs' outputs and spills gone), then the sources read back into it.
        echo 1 >/proc/sys/vm/drop_caches
        cat "$FULL"/audio/* "$SHORT"/audio/* >/dev/null
    fi
    local load t0 t1 stat0 stat1 log="$LOGS/$tool-$run"
    load=$(cut -d' ' -f1 /proc/loadavg)
    stat0=$(head -n1 /proc/stat)
    t0=$(date +%s.%N)
    local nice=()
    [[ -n $BENCH_NICE ]] && nice=(nice -n "$BENCH_NICE")
    "${nice[@]}" /usr/bin/time -v -o "$log.time" "$@" >"$log.out" 2>"$log.err" \
        || { cat "$log.err" >&2; die "$tool run $run failed (log: $log.err)"; }
    t1=$(date +%s.%N)
    stat1=$(head -n1 /proc/stat)
    python3 - "$log.time" "$tool" "$run" "$t0" "$t1" "$load" "$secs" "$stat0" "$stat1" "$(nproc)" \
        >>"$RESULTS" <<'EOF'
import os, re, sys
text = open(sys.argv[1]).read()
get = lambda key: float(re.search(re.escape(key) + r"[^:]*:\s*([\d.]+)", text).group(1))
tool, run, t0, t1, load, secs, stat0, stat1, ncpu = sys.argv[2:]
wall = float(t1) - float(t0)
user, sys_, rss = get("User time"), get("System time"), int(get("Maximum resident set size"))
preempted = int(get("Involuntary context switches"))
# CPU the rest of the machine used meanwhile (other helpers compiling...), as a share of
# all cores: /proc/stat busy time (everything but idle and iowait) minus ours.
def busy(line):
    v = [int(x) for x in line.split()[1:]]
    return sum(v) - v[3] - v[4]
hz = os.sysconf("SC_CLK_TCK")
others = (busy(stat1) - busy(stat0)) / hz - user - sys_
pct = max(0.0, 100 * others / (wall * int(ncpu)))
print(f"{tool}\t{run}\t{wall:.3f}\t{rss}\t{user}\t{sys_}\t{load}\t{secs}\t{pct:.0f}\t{preempted}")
EOF
    tail -n1 "$RESULTS" | awk -F'\t' '{printf "[bench]   %-18s run %s: %7.2f s  %6.1f MiB  (cpu %.2f+%.2f s; others used %s%% of the machine; preempted %s times)\n", $1, $2, $3, $4/1024, $5, $6, $9, $10}' >&2
}

mapfile -d '' FFMPEG_FULL < <(ffmpeg_cmd "$FULL/session.json" "$OUT/ffmpeg")
[[ ${#FFMPEG_FULL[@]} -gt 40 ]] || die "could not build the ffmpeg command"
printf '%q ' "${FFMPEG_FULL[@]}" >"$BENCH_DIR/ffmpeg-command.sh"
echo >>"$BENCH_DIR/ffmpeg-command.sh"
mapfile -d '' FFMPEG_MEASURE < <(ffmpeg_cmd "$FULL/session.json" "$OUT/ffmpeg-ebur128" measure)
[[ ${#FFMPEG_MEASURE[@]} -gt 40 ]] || die "could not build the ffmpeg command (ebur128)"
printf '%q ' "${FFMPEG_MEASURE[@]}" >"$BENCH_DIR/ffmpeg-ebur128-command.sh"
echo >>"$BENCH_DIR/ffmpeg-ebur128-command.sh"

# G: ffmpeg decoding every source file to 32-bit float, in one process, output discarded.
FFMPEG_DECODE=(ffmpeg -hide_banner -loglevel error -nostdin -y)
k=0
for f in "$FULL"/audio/*; do FFMPEG_DECODE+=(-i "$f"); done
for f in "$FULL"/audio/*; do
    FFMPEG_DECODE+=(-map "$k:a" -c:a pcm_f32le -f null /dev/null)
    k=$((k + 1))
done

say "warming the page cache with the source files"
cat "$FULL"/audio/* "$SHORT"/audio/* >/dev/null

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "stemdeck: $("$STEMDECK" --version 2>/dev/null || echo '?') ($(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'no git'))"
[[ -z $STEMDECK_BEFORE ]] || say "before:   $STEMDECK_BEFORE"
say "ffmpeg:   $(ffmpeg -version | head -n1 | cut -d' ' -f1-3)"
say "timing, $RUNS runs each (interleaved)${BENCH_NICE:+, autogroup nice $BENCH_NICE}"
for run in $(seq 1 "$RUNS"); do
    measure stemdeck "$run" "$FULL_SECS" "$OUT/stemdeck" -- \
        "$STEMDECK" export "$FULL/session.json" --format wav24 --master --force --out "$OUT/stemdeck"
    measure ffmpeg "$run" "$FULL_SECS" "$OUT/ffmpeg" -- "${FFMPEG_FULL[@]}"
    measure stemdeck-no-sheet "$run" "$FULL_SECS" "$OUT/stemdeck-no-sheet" -- \
        "$STEMDECK" export "$FULL/session.json" --format wav24 --master --no-sheet --force \
        --out "$OUT/stemdeck-no-sheet"
    measure ffmpeg-ebur128 "$run" "$FULL_SECS" "$OUT/ffmpeg-ebur128" -- "${FFMPEG_MEASURE[@]}"
    if [[ -n $STEMDECK_BEFORE ]]; then
        measure stemdeck-before "$run" "$FULL_SECS" "$OUT/stemdeck-before" -- \
            "$STEMDECK_BEFORE" export "$FULL/session.json" --format wav24 --master --force \
            --out "$OUT/stemdeck-before"
    fi
    measure stemdeck-decode-only "$run" "$FULL_SECS" "$OUT/decode" -- "$DECODE_BENCH" "$FULL"/audio/*
    measure stemdeck-decode-cores "$run" "$FULL_SECS" "$OUT/decode" -- "$DECODE_BENCH" --parallel "$FULL"/audio/*
    measure ffmpeg-decode-only "$run" "$FULL_SECS" "$OUT/decode" -- "${FFMPEG_DECODE[@]}"
    measure stemdeck-float "$run" "$FULL_SECS" "$OUT/stemdeck-float" -- \
        "$STEMDECK" export "$FULL/session.json" --format wav32f --master --force --out "$OUT/stemdeck-float"
    measure stemdeck-trim24 "$run" "$FULL_SECS" "$OUT/stemdeck-trim24" -- \
        "$STEMDECK" export "$FULL/session-loud.json" --format wav24 --master --trim auto --force \
        --out "$OUT/stemdeck-trim24"
    measure stemdeck-24-no-trim "$run" "$FULL_SECS" "$OUT/stemdeck-24-no-trim" -- \
        "$STEMDECK" export "$FULL/session.json" --format wav24 --master --trim auto --force \
        --out "$OUT/stemdeck-24-no-trim"
    if [[ -n $STEMDECK_BEFORE ]]; then
        measure stemdeck-trim24-before "$run" "$FULL_SECS" "$OUT/stemdeck-trim24-before" -- \
            "$STEMDECK_BEFORE" export "$FULL/session-loud.json" --format wav24 --master --trim auto \
            --force --out "$OUT/stemdeck-trim24-before"
    fi
    measure "stemdeck-${SHORT_SECS}s" "$run" "$SHORT_SECS" "$OUT/stemdeck-short" -- \
        "$STEMDECK" export "$SHORT/session.json" --format wav24 --master --force --out "$OUT/stemdeck-short"
done

# Same job? Both wrote 5 files of the session length.
for tool in stemdeck stemdeck-no-sheet ffmpeg ffmpeg-ebur128; do
    n=$(find "$OUT/$tool" -name '*.wav' | wc -l)
    [[ $n -eq 5 ]] || die "$tool wrote $n files, expected 5"
    for f in "$OUT/$tool"/*.wav; do
        d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")
        python3 -c "import sys; sys.exit(abs($d - $FULL_SECS) > 0.1)" \
            || die "$f lasts $d s, expected $FULL_SECS"
    done
done
say "both tools wrote 5 stereo 24-bit files of ${FULL_SECS} s"
# The two Stemdeck runs wrote the same bytes (the sheet aside), and so did a before binary.
for other in stemdeck-no-sheet ${STEMDECK_BEFORE:+stemdeck-before}; do
    (cd "$OUT/stemdeck" && for f in *.wav; do cmp -s "$f" "$OUT/$other/$f" || die "$other/$f differs"; done)
done
say "stemdeck wrote the same bytes with --no-sheet${STEMDECK_BEFORE:+ and before the change}"
grep -q "trimmed every file" "$LOGS/stemdeck-trim24-1.out" "$LOGS/stemdeck-trim24-1.err" \
    || die "the +12 dB session was not trimmed (see $LOGS/stemdeck-trim24-1.out)"
if grep -q "trimmed every file" "$LOGS/stemdeck-24-no-trim-1.out" "$LOGS/stemdeck-24-no-trim-1.err"; then
    die "the session as it is needed a trim: no untrimmed 24-bit reference"
fi
if [[ -n $STEMDECK_BEFORE ]]; then
    (cd "$OUT/stemdeck-trim24" && for f in *.wav; do
        cmp -s "$f" "$OUT/stemdeck-trim24-before/$f" || die "stemdeck-trim24-before/$f differs"
    done)
    say "the trimmed files are the same bytes before and after"
fi
# ... and the same audio: the difference between the two tools' files. The Bass stem
# holds only 48 kHz files (no resampling): it must match to the last bits. The master
# holds 44.1 kHz files too, resampled by rubato (FFT) vs swresample: not identical,
# but a mixing error (gain, pan, offset) would leave a difference near the signal level.
level() { # ffmpeg input args... -> "peak RMS" in dBFS
    ffmpeg -hide_banner -nostdin "$@" -f null - 2>&1 \
        | sed -n 's/.*\(Peak level dB\|RMS level dB\): *//p' | tail -n2 | paste -sd' '
}
STATS=astats=measure_perchannel=none:measure_overall=Peak_level+RMS_level
for stem in Bass Master; do
    a=$(find "$OUT/stemdeck" -name "*$stem.wav" | head -n1)
    b=$(find "$OUT/ffmpeg" -name "*$stem.wav" | head -n1)
    read -r s_peak s_rms <<<"$(level -i "$a" -af "$STATS")"
    diff="[1:a]volume=-1[n];[0:a][n]amix=inputs=2:normalize=0"
    read -r d_peak d_rms <<<"$(level -i "$a" -i "$b" -filter_complex "$diff,$STATS")"
    # The resamplers' anti-aliasing filters differ near Nyquist (white noise has energy
    # there); below 16 kHz they must agree.
    read -r l_peak l_rms <<<"$(level -i "$a" -i "$b" -filter_complex \
        "$diff,lowpass=f=16000,lowpass=f=16000,lowpass=f=16000,lowpass=f=16000,$STATS")"
    say "$(printf '%-6s' "$stem") stemdeck: peak $s_peak dBFS, RMS $s_rms dBFS;" \
        "stemdeck - ffmpeg: RMS $d_rms dBFS (below 16 kHz: $l_rms dBFS)"
done

# --------------------------------------------------------------------------- report
python3 - "$RESULTS" "$FULL_SECS" "$SHORT_SECS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
full, short = sys.argv[2], sys.argv[3]
def med(tool, key):
    return statistics.median(float(r[key]) for r in rows if r["tool"] == tool)
def spread(tool):
    w = [float(r["wall_s"]) for r in rows if r["tool"] == tool]
    return f"{min(w):.2f}-{max(w):.2f}"
print()
print(f"| tool | audio | wall s (median) | min-max | x realtime | peak RSS MiB (median) | CPU s (user+sys) | others' CPU |")
print(f"|---|---|---|---|---|---|---|---|")
tools = [(t, full) for t in ("stemdeck", "stemdeck-no-sheet", "ffmpeg", "ffmpeg-ebur128",
                             "stemdeck-before", "stemdeck-decode-only", "stemdeck-decode-cores",
                             "ffmpeg-decode-only", "stemdeck-float", "stemdeck-24-no-trim",
                             "stemdeck-trim24", "stemdeck-trim24-before")
         if any(r["tool"] == t for r in rows)]
for tool, secs in tools + [(f"stemdeck-{short}s", short)]:
    wall = med(tool, "wall_s")
    cpu = med(tool, "user_s") + med(tool, "sys_s")
    print(f"| {tool} | {int(secs) // 60}:{int(secs) % 60:02d} | {wall:.2f} | {spread(tool)} | "
          f"{float(secs) / wall:.1f}x | {med(tool, 'rss_kb') / 1024:.1f} | {cpu:.2f} | {med(tool, 'others_pct'):.0f}% |")
loads = [float(r["load1"]) for r in rows]
print()
def ratio(a, b):
    return med(a, "wall_s") / med(b, "wall_s"), med(a, "user_s") + med(a, "sys_s"), med(b, "user_s") + med(b, "sys_s")
for what, a, b in (("stems only:    ffmpeg         / stemdeck --no-sheet", "ffmpeg", "stemdeck-no-sheet"),
                   ("full delivery: ffmpeg-ebur128 / stemdeck           ", "ffmpeg-ebur128", "stemdeck"),
                   ("plain:         ffmpeg         / stemdeck           ", "ffmpeg", "stemdeck")):
    r, ca, cb = ratio(a, b)
    print(f"{what}: {r:.2f}x wall, {ca / cb:.2f}x CPU  (goal: >= 5x)")
if any(r["tool"] == "stemdeck-before" for r in rows):
    r, ca, cb = ratio("stemdeck-before", "stemdeck")
    print(f"before / after (stemdeck full delivery): {r:.2f}x wall, {ca / cb:.2f}x CPU")
# The floor: Stemdeck cannot export faster than it decodes. Decoding is spread over the
# cores (each track is one task), so the best any export could do is the one-thread
# decoding time over the core count, with everything else (mixing, resampling, writing,
# measuring) free.
import os
ncpu = os.cpu_count() or 1
dec = med("stemdeck-decode-only", "user_s") + med("stemdeck-decode-only", "sys_s")
floor = dec / ncpu
print(f"decoding floor: stemdeck decodes the sources in {dec:.2f} s of CPU (one thread), so no export can "
      f"take less than {floor:.2f} s on {ncpu} cores; ffmpeg's job takes {med('ffmpeg', 'wall_s'):.2f} s, "
      f"so the best possible ratio here is {med('ffmpeg', 'wall_s') / floor:.2f}x "
      f"(ffmpeg's own decoding of the same files: {med('ffmpeg-decode-only', 'wall_s'):.2f} s)")
floor_wall = med("stemdeck-decode-cores", "wall_s")
ff = med("ffmpeg", "wall_s")
print()
print(f"The floor and ffmpeg, side by side (wall, medians; goals: export <= 1.3x the floor, "
      f"ffmpeg >= 5x the export):")
print()
print(f"| export | export s | decoding floor s ({ncpu} cores) | ffmpeg s | export / floor | ffmpeg / export |")
print(f"|---|---|---|---|---|---|")
for label, tool in (("float (wav32f --master)", "stemdeck-float"),
                    ("24-bit, trimmed (wav24 --master --trim auto, +12 dB)", "stemdeck-trim24"),
                    ("24-bit, no trim needed (same flags, 0 dB)", "stemdeck-24-no-trim"),
                    ("24-bit, trimmed, before", "stemdeck-trim24-before")):
    if any(r["tool"] == tool for r in rows):
        w = med(tool, "wall_s")
        print(f"| {label} | {w:.2f} | {floor_wall:.2f} | {ff:.2f} | {w / floor_wall:.2f}x | {ff / w:.2f}x |")
def cpu(tool):
    return med(tool, "user_s") + med(tool, "sys_s")
tr, nt = med("stemdeck-trim24", "wall_s"), med("stemdeck-24-no-trim", "wall_s")
print()
print(f"the trim's cost: trimmed / untrimmed 24-bit export = {tr / nt:.2f}x wall, "
      f"{cpu('stemdeck-trim24') / cpu('stemdeck-24-no-trim'):.2f}x CPU  (goal: <= 1.2x)")
print(f"stemdeck peak RSS: {med('stemdeck', 'rss_kb') / 1024:.1f} MiB at {full} s, "
      f"{med(f'stemdeck-{short}s', 'rss_kb') / 1024:.1f} MiB at {short} s  (goal: <= 100 MB, flat)")
others = [float(r["others_pct"]) for r in rows]
print(f"1-min load average before the runs: {min(loads):.2f} .. {max(loads):.2f}; "
      f"other processes used {min(others):.0f}..{max(others):.0f}% of the machine during the runs")
pre = [int(r["preempted"]) for r in rows]
print(f"involuntary context switches per run: {min(pre)} .. {max(pre)}")
if max(others) > 10:
    print("WARNING: other jobs were running during some runs (they may only have used the CPU time "
          "left idle; the preemption count says whether they took it from the benchmark)")
EOF
say "raw figures: $RESULTS; ffmpeg command: $BENCH_DIR/ffmpeg-command.sh"
