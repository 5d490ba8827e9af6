#!/usr/bin/env bash
# Build Stemdeck (release) and run it: `bash scripts/run.sh [ARGS...]`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p stemdeck
exec target/release/stemdeck "$@"
