#!/usr/bin/env bash
# The whole test suite, with all set-up: `bash scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# Disk: a run from a clean clone used about 4 GB (2026-12-02: target/ 3.1 GB, fuzz/target
# 0.6 GB, the tests' temporary files and the test package). Said at the start and after each step, so a run
# that fills the disk says so.
disk() {
  df -Pk . "${TMPDIR:-/tmp}" | awk -v step="$1" 'NR > 1 && !seen[$1]++ {
    printf "test: %s: %.1f GB free on %s\n", step, $4 / 1048576, $6 }' >&2
}
disk "start"
if (($(df -Pk . | awk 'NR == 2 { print $4 }') < 5 * 1048576)); then
  echo "test: warning: under 5 GB free (a run from a clean clone used about 4 GB):" \
    "the build or the tests may fail with \"No space left on device\"" >&2
fi

# The device tests start a sound server (PulseAudio, with a null sink) when none runs:
# stop it again at the end, pass or fail, so the suite leaves the machine as it found it.
if ! pactl info >/dev/null 2>&1; then
  trap 'if pactl info >/dev/null 2>&1; then pulseaudio -k 2>/dev/null || true; fi' EXIT
fi

cargo build --workspace --all-targets --locked
# The end-to-end tests run the binary built exactly like this (its own feature set);
# build it once here rather than inside the first test.
cargo build --locked -p stemdeck --bin stemdeck
disk "built"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
disk "tested"

# The Debian package: validated, built from the debug binary above (no second build),
# installed with apt, run from /usr/bin, removed (scripts/test-package.sh; skipped with a
# message without root or sudo). SKIP_PACKAGE=1 leaves it out.
if [[ "${SKIP_PACKAGE:-0}" != 1 ]]; then
  started=$SECONDS
  bash scripts/test-package.sh
  echo "test: package: $((SECONDS - started)) s" >&2
  disk "packaged"
fi

# Lints: no unwrap/expect in library and binary code (workspace lints; tests, their
# helpers and the benchmark examples may unwrap), no warnings in any target.
cargo clippy --workspace --all-targets --locked -- -D warnings
disk "linted"

# Fuzzing: the session parser and opening arbitrary bytes as audio, 60 s each
# (FUZZ_SECONDS), with the committed seed corpus; installs cargo-fuzz if missing.
# SKIP_FUZZ=1 leaves it out.
if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  bash scripts/fuzz.sh
  disk "fuzzed"
fi
