#!/usr/bin/env bash
# Regenerate the decoder test fixtures in crates/audio/tests/fixtures/.
#
# Run once and commit the output; the tests never run this. They decode each fixture
# with ffmpeg at test time and compare (crates/audio/tests/decode_formats.rs), so only
# the small encoded files are committed, no decoded references.
#
# The test signal is deterministic (ffmpeg's aevalsrc, no dither, bit-exact muxing):
#   left / mono: 0.25 sin(2pi 440 t) + 0.12 sin(2pi 3000 t + 0.5), plus a click of +0.5
#                at frame CLICK_L = round(0.050 R) + 3
#   right:       0.20 sin(2pi 660 t) + 0.10 sin(2pi 5100 t),       plus a click of -0.5
#                at frame CLICK_R = round(0.090 R) + 5
# (R = sample rate), 0.15 s long for PCM and lossless files, 0.25 s for lossy ones (a few
# KB each anyway), 0.03 s for the 3-channel file: about 520 KB in all (keep it under
# 600 KB). Left and right differ, so a channel swap shows, and the clicks sit at known
# frames, so an offset (encoder delay not trimmed, resampler delay left in) shows to the
# sample. The tests compute the same click frames and lengths: keep `click_frames` in
# tests/common/mod.rs and `seconds_percent` in tests/decode_formats.rs in step with this
# file.
#
# Needs ffmpeg (with libmp3lame and libvorbis) and sox.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/crates/audio/tests/fixtures"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for tool in ffmpeg sox; do
    command -v "$tool" >/dev/null || { echo "make-fixtures: $tool is not installed" >&2; exit 1; }
done

DUR=0.15
mkdir -p "$out"
rm -f "$out"/*.wav "$out"/*.aiff "$out"/*.flac "$out"/*.mp3 "$out"/*.ogg "$out"/*.m4a

# Bit-exact output: no encoder/version strings that change between ffmpeg builds.
FF=(ffmpeg -hide_banner -loglevel error -nostdin -y)
BITEXACT=(-fflags +bitexact -flags:a +bitexact -map_metadata -1)

click_l() { echo $(( ($1 * 5 + 50) / 100 + 3 )); }    # round(0.050 R) + 3
click_r() { echo $(( ($1 * 9 + 50) / 100 + 5 )); }    # round(0.090 R) + 5

# signal RATE CHANNELS DURATION -> ffmpeg lavfi input spec (64-bit float samples)
signal() {
    local rate=$1 channels=$2 dur=$3
    local cl cr left right third
    cl=$(click_l "$rate")
    cr=$(click_r "$rate")
    left="0.25*sin(2*PI*440*t)+0.12*sin(2*PI*3000*t+0.5)+0.5*eq(n\\,$cl)"
    right="0.20*sin(2*PI*660*t)+0.10*sin(2*PI*5100*t)-0.5*eq(n\\,$cr)"
    third="0.2*sin(2*PI*220*t)"
    case $channels in
        1) echo "aevalsrc=exprs=$left:s=$rate:d=$dur" ;;
        2) echo "aevalsrc=exprs=$left|$right:s=$rate:d=$dur" ;;
        3) echo "aevalsrc=exprs=$left|$right|$third:s=$rate:d=$dur" ;;
    esac
}

# gen PATH RATE CHANNELS [ffmpeg output options...]
gen() {
    local path=$1 rate=$2 channels=$3
    shift 3
    "${FF[@]}" -f lavfi -i "$(signal "$rate" "$channels" "$DUR")" "${BITEXACT[@]}" "$@" "$path"
}

# WAV. ffmpeg writes WAVE_FORMAT_PCM (1) for 8/16-bit and WAVE_FORMAT_EXTENSIBLE (0xFFFE)
# for more than 16 bits; sox's `wavpcm` type writes the plain header (1, or 3 for float)
# that many DAWs write for 24/32-bit files, so both header kinds are covered.
gen "$out/wav_u8_44100_mono.wav"           44100 1 -c:a pcm_u8
gen "$out/wav_s16_44100_mono.wav"          44100 1 -c:a pcm_s16le
gen "$out/wav_s16_44100_stereo.wav"        44100 2 -c:a pcm_s16le
gen "$out/wav_s24ext_48000_stereo.wav"     48000 2 -c:a pcm_s24le
gen "$tmp/s24.wav" 44100 1 -c:a pcm_s24le
sox -V1 -D "$tmp/s24.wav" -t wavpcm "$out/wav_s24_44100_mono.wav"
gen "$tmp/s32.wav" 48000 1 -c:a pcm_s32le
sox -V1 -D "$tmp/s32.wav" -t wavpcm "$out/wav_s32_48000_mono.wav"
gen "$out/wav_s32ext_44100_mono.wav"       44100 1 -c:a pcm_s32le
gen "$tmp/f32.wav" 44100 2 -c:a pcm_f32le
sox -V1 -D "$tmp/f32.wav" -t wavpcm "$out/wav_f32_44100_stereo.wav"
gen "$out/wav_f32ext_48000_mono.wav"       48000 1 -c:a pcm_f32le
gen "$out/wav_f64_44100_mono.wav"          44100 1 -c:a pcm_f64le

# AIFF (big-endian PCM).
gen "$out/aiff_s16_44100_stereo.aiff"      44100 2 -c:a pcm_s16be
gen "$out/aiff_s24_48000_mono.aiff"        48000 1 -c:a pcm_s24be

# FLAC.
gen "$out/flac_s16_44100_stereo.flac"      44100 2 -c:a flac -sample_fmt s16
gen "$out/flac_s16_48000_mono.flac"        48000 1 -c:a flac -sample_fmt s16
gen "$out/flac_s24_96000_stereo.flac"      96000 2 -c:a flac -sample_fmt s32 -bits_per_raw_sample 24

# ALAC in MP4 (.m4a).
gen "$out/alac_s16_44100_stereo.m4a"       44100 2 -c:a alac -sample_fmt s16p
gen "$out/alac_s24_48000_mono.m4a"         48000 1 -c:a alac -sample_fmt s32p -bits_per_raw_sample 24

# Lossy: longer (still a few KB), so the comparison spans many codec frames.
DUR=0.25

# MP3 (LAME through ffmpeg: a Xing/Info frame with the LAME extension carrying the encoder
# delay and padding, ffmpeg's default).
gen "$out/mp3_44100_stereo.mp3"            44100 2 -c:a libmp3lame -b:a 192k
gen "$out/mp3_48000_mono.mp3"              48000 1 -c:a libmp3lame -b:a 128k

# Ogg Vorbis. Short pages (50 ms), as in any file longer than a second or so: ffmpeg 5.1
# drops the last 128 frames of a stream held in a single Ogg page (libvorbisfile, e.g.
# sox, and Stemdeck follow the final granule position). The `onepage` file is that case,
# tested against the known length instead.
gen "$out/vorbis_44100_stereo.ogg"         44100 2 -c:a libvorbis -q:a 6 -page_duration 50000
gen "$out/vorbis_48000_mono.ogg"           48000 1 -c:a libvorbis -q:a 6 -page_duration 50000
gen "$out/vorbis_44100_mono_onepage.ogg"   44100 1 -c:a libvorbis -q:a 4

# AAC-LC in MP4 (.m4a). ffmpeg writes an edit list skipping its encoder's 1024 priming
# frames and shortens the last sample's duration to end where the audio ends.
gen "$out/aac_44100_stereo.m4a"            44100 2 -c:a aac -b:a 160k
gen "$out/aac_48000_mono.m4a"              48000 1 -c:a aac -b:a 96k

# Three channels: Stemdeck refuses it (short: only the header matters).
DUR=0.03
gen "$out/wav_s16_44100_3ch.wav" 44100 3 -c:a pcm_s16le

du -sh "$out"
ls -l "$out"
