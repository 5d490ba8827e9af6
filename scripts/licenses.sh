#!/usr/bin/env bash
# Writes assets/third-party-licenses.json: name, version and licence of every
# third-party package the stemdeck binary links (its normal dependencies, followed
# through; not build scripts, proc macros or dev-dependencies; not our workspace crates),
# for the Linux target the .deb ships, from cargo (metadata and tree).
# Help ▸ About shows it (embedded in the binary).
#   bash scripts/licenses.sh           # write the file
#   bash scripts/licenses.sh --check   # fail if the committed file does not match Cargo.lock
set -euo pipefail
cd "$(dirname "$0")/.."
out=assets/third-party-licenses.json
command -v jq >/dev/null || { echo "licenses.sh: jq is required (apt-get install jq)" >&2; exit 1; }

generate() {
  local cargo="${CARGO:-cargo}" ours
  # Our workspace crates are not third-party.
  ours="$("$cargo" metadata --format-version 1 --no-deps --locked | jq -c '[.packages[].name]')"
  # cargo tree resolves features as the binary is built (cargo metadata's resolve
  # unifies them with the dev-dependencies', e.g. the GUI tests' wgpu, which the
  # binary does not link); -e normal,no-proc-macro: linked code only.
  "$cargo" tree --locked -p stemdeck -e normal,no-proc-macro --target x86_64-unknown-linux-gnu \
      --prefix none --no-dedupe --format '{p}|{l}' |
    sed 's/ (\*)$//' | sort -u |
    jq -R -s --argjson ours "$ours" '
      split("\n")
      | map(select(length > 0)
            | capture("^(?<name>[^ ]+) v(?<version>[^ |]+)[^|]*[|](?<license>.*)$")
            | select(.name as $n | $ours | index($n) | not)
            | .license |= (if . == "" then null else . end))
      | unique_by(.name, .version)
      | sort_by(.name, .version)'
}

if [ "${1:-}" = "--check" ]; then
  tmp="$(mktemp)"
  trap 'rm -f "$tmp"' EXIT
  generate >"$tmp"
  if ! diff -u "$out" "$tmp" >&2; then
    echo "licenses.sh: $out does not match Cargo.lock: run bash scripts/licenses.sh and commit it" >&2
    exit 1
  fi
  echo "licenses.sh: $out matches Cargo.lock ($(jq length "$out") packages)"
else
  generate >"$out.tmp"
  mv "$out.tmp" "$out"
  echo "licenses.sh: wrote $out ($(jq length "$out") packages)"
fi
