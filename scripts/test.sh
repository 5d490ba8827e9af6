#!/usr/bin/env bash
# The whole test suite, with all set-up: `bash scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

cargo build --workspace --all-targets --locked
# The end-to-end tests run the binary built exactly like this (its own feature set);
# build it once here rather than inside the first test.
cargo build --locked -p stemdeck --bin stemdeck
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

# Lints: no unwrap/expect in library and binary code (workspace lints), no warnings.
cargo clippy --workspace --lib --bins --locked -- -D warnings

# Fuzzing: the session parser and opening arbitrary bytes as audio, 60 s each
# (FUZZ_SECONDS), with the committed seed corpus; installs cargo-fuzz if missing.
# SKIP_FUZZ=1 leaves it out.
if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  bash scripts/fuzz.sh
fi
