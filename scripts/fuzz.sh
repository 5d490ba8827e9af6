#!/usr/bin/env bash
# Fuzzing (cargo-fuzz / libFuzzer) of the two parsers that take untrusted bytes:
#   session_json  the session file parser (stemdeck_session: Session::from_json, then
#                 what the app does with a session: mix plans, variants, regroup, save
#                 and reload)
#   audio_open    arbitrary bytes opened as audio (stemdeck_audio: Decoder::open, read,
#                 seek, and TrackStream at 48 kHz, i.e. resampled), with each extension
#                 hint wav/flac/mp3/ogg/m4a/aiff (picked by the input's first byte)
#
#   bash scripts/fuzz.sh [TARGET...]        each target for $FUZZ_SECONDS (default 60)
#   FUZZ_SECONDS=3600 bash scripts/fuzz.sh audio_open
#
# scripts/test.sh runs it (60 s each) after the test suite. Installs cargo-fuzz if it is
# missing. Uses the nightly toolchain when rustup has one, else stable with
# RUSTC_BOOTSTRAP=1 (cargo-fuzz needs unstable compiler flags). Builds in fuzz/target.
# New inputs found go to a scratch folder, not to the committed seed corpus
# (fuzz/corpus/<target>/seed-*); a crash is saved in fuzz/artifacts/<target>/ and fails
# the run, with the command that reproduces it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/fuzz"

SECONDS_EACH="${FUZZ_SECONDS:-60}"
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(session_json audio_open)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked --quiet
fi

TOOLCHAIN=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  TOOLCHAIN=(+nightly)
else
  echo "fuzz: no nightly toolchain: stable with RUSTC_BOOTSTRAP=1" >&2
  export RUSTC_BOOTSTRAP=1
fi
# The fuzz crate is its own workspace, built in fuzz/target whatever the caller set.
unset CARGO_TARGET_DIR

echo "== fuzz: building ${TARGETS[*]}"
start=$(date +%s)
# -O: no blanket -Cdebug-assertions/-Coverflow-checks from cargo-fuzz, so the profile in
# fuzz/Cargo.toml decides: overflow checks on in our crates, off in third-party ones (as
# in the release app, where symphonia's overflows wrap instead of panicking).
for t in "${TARGETS[@]}"; do
  cargo "${TOOLCHAIN[@]}" fuzz build -O "$t"
done
echo "fuzz: built in $(($(date +%s) - start)) s"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$scratch/$t" "artifacts/$t"
  echo "== fuzz: $t for $SECONDS_EACH s"
  log="$scratch/$t.log"
  # -timeout: one input taking 20 s is a hang; -rss_limit_mb: 2 GB is a memory bomb.
  if cargo "${TOOLCHAIN[@]}" fuzz run -O "$t" "$scratch/$t" "corpus/$t" -- \
      -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 >"$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)|^Done ' "$log" || tail -5 "$log"
    echo "fuzz: $t: no crash, $(ls "$scratch/$t" | wc -l) corpus entries"
  else
    status=1
    # What stopped the run (libFuzzer's or the sanitizer's report), the last panic before
    # it (panics that the decoder catches (decode/guard.rs) are printed too, so only the last one can be the
    # fatal one), and where libFuzzer saved the input.
    grep -m1 -A2 -E "ERROR: (libFuzzer|AddressSanitizer)" "$log" || tail -40 "$log"
    grep -A1 "panicked at" "$log" | tail -2 || true
    grep -m1 "Test unit written" "$log" || true
    cp "$log" "artifacts/$t/fuzz.log"
    echo "fuzz: $t FAILED; the input and the log are in fuzz/artifacts/$t/; reproduce with:" >&2
    echo "  cd fuzz && cargo ${TOOLCHAIN[*]} fuzz run -O $t artifacts/$t/<file>" >&2
  fi
done
exit $status
