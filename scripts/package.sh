#!/usr/bin/env bash
# The Debian package (cargo-deb; metadata in crates/app/Cargo.toml [package.metadata.deb],
# files in assets/linux/):
#   bash scripts/package.sh          # release build -> target/debian/stemdeck_<version>-1_<arch>.deb
#   bash scripts/package.sh --debug  # from the debug build (the test suite) -> target/debian/debug/
# Installs what is missing (apt: build and packaging tools; cargo-deb with cargo install).
# Progress goes to stderr; the last line on stdout is the .deb's path.
set -euo pipefail
cd "$(dirname "$0")/.."
# dpkg-dev: dpkg-shlibdeps works out the libraries the binary links ($auto in Depends);
# binutils: strip.
STEMDECK_EXTRA_APT_PACKAGES="dpkg-dev binutils ${STEMDECK_EXTRA_APT_PACKAGES:-}" \
  source scripts/setup.sh

# The version is pinned: --debug relies on cargo-deb accepting `--profile dev`, which it
# warns may be refused by later versions.
if ! cargo deb --version >/dev/null 2>&1; then
  echo "package: installing cargo-deb (cargo install cargo-deb --version 3.8.0 --locked)" >&2
  cargo install cargo-deb --version 3.8.0 --locked >&2
fi

# --strip: the release profile keeps line tables for backtraces (185 MB); the package
# ships the binary without them (about 30 MB).
args=(-p stemdeck --no-build --strip)
if [[ "${1:-}" == "--debug" ]]; then
  # The debug binary the tests built (cargo-deb maps target/release/ in the asset list
  # to the profile's folder; the build is a no-op when it is up to date), compressed
  # fast: this package is installed and removed at once.
  cargo build --locked -p stemdeck --bin stemdeck >&2
  args+=(--profile dev --fast --output target/debian/debug/)
else
  cargo build --release --locked -p stemdeck >&2
fi
# cargo-deb prints the package's path last on stdout.
deb=$(cargo deb "${args[@]}" | tail -n 1)
[ -f "$deb" ] || { echo "package: cargo deb did not make a package ($deb)" >&2; exit 1; }
echo "$deb"
