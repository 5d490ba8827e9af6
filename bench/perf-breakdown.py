#!/usr/bin/env python3
"""Where `stemdeck export` spends its CPU time, by stage, from a perf call-graph profile.

    perf record -F 499 --call-graph dwarf,32768 -o perf.data -- \
        target/release/stemdeck export SESSION.json --format wav24 --master --force --out DIR
    perf script -i perf.data -F tid,period,ip,sym | python3 bench/perf-breakdown.py

Each sample is put in the first stage (in the order of RULES) that any frame of its
stack matches, so e.g. kernel time under a WAV write counts as "write", and symphonia's
file reads count as the decode of that format. Prints CPU seconds and shares, per stage
and per thread (main thread = the serial part of the block loop).
"""
import re
import sys
from collections import Counter, defaultdict

RULES = [
    ("open + probe files (before the block loop)",
     r"probe_session|Decoder::open|TrackStream::open|count_frames|load_many|Session::load"),
    # The trim's spill files (render/spill.rs `Spill`): written in pass 1, read back by the trim.
    ("trim: spill files written / read back (kernel included)", r"Spill::"),
    ("write: write() syscalls (kernel)", r"ksys_write|vfs_write"),
    ("write: finish + rename", r"StemWriter::finish|WavWriter.*finalize|sys::fs::rename"),
    ("threads: hand-off, wake-up, yield (rayon barriers)",
     r"sched_yield|sys_futex|futex_wait|futex_wake|\bschedule \(|__schedule"),
    ("write: f32 -> 24-bit + hound + BufWriter, per sample",
     r"StemWriter::write|format::wav::|hound::|write_all<std::fs::File>|BufWriter"),
    ("true peak (export::true_peak)", r"true_peak::|TruePeakMeter"),
    ("loudness: EBU R128 K-weighting + gating (ebur128)", r"ebur128::"),
    ("null test: reading the files back + comparing", r"null_test_files|read_back_block|null_residual"),
    ("resample (rubato FFT)", r"rubato|realfft|rustfft|RateConverter"),
    ("mix (mix_block)", r"mix_block|kernel::accumulate|kernel::scale"),
    ("decode MP3", r"symphonia_bundle_mp3"),
    ("decode Vorbis (+ Ogg demux)", r"symphonia_codec_vorbis|symphonia_format_ogg"),
    ("decode FLAC", r"symphonia_bundle_flac"),
    ("decode WAV (PCM)", r"symphonia_codec_pcm|symphonia_format_riff"),
    # Codec code inlined into the decoder (decode/decoder.rs; no crate name in its frames) lands here too.
    ("decode: copy to planar f32 (decode/decoder.rs)", r"Decoder::read|Decoder::decode_next"),
    ("stream: carry copy, silence fill (stream.rs)", r"TrackStream::read"),
    ("render loop: buffers, zeroing (render/)", r"render_files|export::render"),
    ("rayon: work stealing", r"rayon|crossbeam"),
]
COMPILED = [(name, re.compile(rx)) for name, rx in RULES]


def samples(lines):
    """(tid, period, [frames leaf first]) per sample of `perf script -F tid,period,ip,sym`."""
    head, frames = None, []
    for line in lines:
        if not line.strip():
            if head:
                yield head[0], head[1], frames
            head, frames = None, []
        elif line.startswith("\t"):
            frames.append(line.strip())
        else:
            if head:
                yield head[0], head[1], frames
            parts = line.split()
            head, frames = (int(parts[0]), int(parts[1]) if len(parts) > 1 else 1), []
    if head:
        yield head[0], head[1], frames


def main():
    by_stage, by_thread = Counter(), Counter()
    stage_thread = defaultdict(Counter)
    main_tid = None
    for tid, period, frames in samples(sys.stdin):
        if main_tid is None:
            main_tid = tid  # the first sample is the main thread (workers start later)
        stack = "\n".join(frames)
        stage = next((name for name, rx in COMPILED if rx.search(stack)), "other")
        thread = "main" if tid == main_tid else "workers"
        by_stage[stage] += period
        by_thread[thread] += period
        stage_thread[stage][thread] += period
    total = sum(by_stage.values()) or 1
    scale = 1e9  # cpu-clock periods are nanoseconds
    print(f"{'stage':58} {'CPU s':>7} {'share':>6} {'main':>6} {'workers':>7}")
    for stage, p in by_stage.most_common():
        t = stage_thread[stage]
        print(f"{stage:58} {p / scale:7.2f} {100 * p / total:5.1f}% "
              f"{t['main'] / scale:6.2f} {t['workers'] / scale:7.2f}")
    print(f"{'total':58} {total / scale:7.2f}")
    for thread, p in by_thread.most_common():
        print(f"  thread {thread}: {p / scale:.2f} CPU s")


if __name__ == "__main__":
    main()
