#!/usr/bin/env bash
# The Debian package as a user gets it (a step of scripts/test.sh): validates the desktop
# entry, the AppStream metainfo and the MIME type, builds the .deb from the debug binary
# already built (scripts/package.sh --debug: no second build), installs it with apt,
# runs /usr/bin/stemdeck from a folder away from the build tree, checks what the
# package's triggers registered, removes it and checks it is gone.
# Needs root or password-less sudo (CI runs as root); otherwise says so and skips.
# It replaces an installed stemdeck package, and removes it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! sudo -n true 2>/dev/null; then
    echo "test-package: SKIPPED: installing the package needs root or password-less sudo" >&2
    exit 0
  fi
  SUDO="sudo -n"
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test-package: SKIPPED: no apt-get (not Debian/Ubuntu)" >&2
  exit 0
fi
id=org.example.stemdeck
# The validators, the databases the package's triggers update, and the package's runtime
# dependencies (installed beforehand so that installing the .deb needs no download).
depends=$(sed -n 's/^depends = "\$auto, \(.*\)"$/\1/p' crates/app/Cargo.toml | tr -d ,)
STEMDECK_EXTRA_APT_PACKAGES="desktop-file-utils appstream shared-mime-info libglib2.0-bin $depends" \
  source scripts/setup.sh

desktop-file-validate "assets/linux/$id.desktop"
appstreamcli validate --no-net "assets/linux/$id.metainfo.xml" >&2
# The MIME type: compiled into a scratch database. update-mime-database exits 0 even on
# bad XML, so anything it says counts as a failure (the scratch folder is put in
# XDG_DATA_DIRS so that it has no reason to say more).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/mime/packages"
cp "assets/linux/$id.mime.xml" "$scratch/mime/packages/$id.xml"
said=$(XDG_DATA_DIRS="$scratch" update-mime-database "$scratch/mime" 2>&1 >/dev/null)
if [ -n "$said" ] || ! grep -q '^application/x-stemdeck-session:\*\.stemdeck$' "$scratch/mime/globs" ||
  ! grep -q 'stemdeck-session' "$scratch/mime/magic"; then
  echo "test-package: assets/linux/$id.mime.xml: not a valid MIME type for *.stemdeck: $said" >&2
  exit 1
fi

deb=$(bash scripts/package.sh --debug | tail -n 1)
echo "test-package: built $deb ($(du -h "$deb" | cut -f1))" >&2
contents=$(dpkg-deb --contents "$deb")
for f in usr/bin/stemdeck "usr/share/applications/$id.desktop" "usr/share/metainfo/$id.metainfo.xml" \
  "usr/share/mime/packages/$id.xml" "usr/share/icons/hicolor/scalable/apps/$id.svg" \
  "usr/share/icons/hicolor/16x16/apps/$id.png" "usr/share/icons/hicolor/512x512/apps/$id.png"; do
  grep -q " \./$f\$" <<<"$contents" || { echo "test-package: $f missing from $deb" >&2; exit 1; }
done

DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$(realpath "$deb")" >/dev/null
# Run the installed binary as a user would: from elsewhere, on a copy of the demo.
cp -r "$root/assets/demo" "$scratch/demo"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
(
  cd "$scratch"
  got=$(/usr/bin/stemdeck --version)
  [ "$got" = "stemdeck $version" ] || { echo "test-package: --version said \"$got\", not \"stemdeck $version\"" >&2; exit 1; }
  info=$(/usr/bin/stemdeck info demo/demo.stemdeck.json)
  # The title line, and a track read from its file (format, rate, channels) in its stem.
  if ! grep -q "^Neon Harbour — 44100 Hz" <<<"$info" || ! grep -Eq "05 Lead Vox +flac.* 44100 +1 .*Vocals" <<<"$info"; then
    echo "test-package: stemdeck info did not show the demo session:" >&2
    echo "$info" >&2
    exit 1
  fi
  echo "test-package: /usr/bin/stemdeck --version: $got; info: $(wc -l <<<"$info") lines" >&2
)
# What the triggers of shared-mime-info and desktop-file-utils registered, as a file
# manager sees it (GIO): a .stemdeck file is a Stemdeck session, opened by Stemdeck.
cp "$scratch/demo/demo.stemdeck.json" "$scratch/Song.stemdeck"
type=$(gio info -a standard::content-type "$scratch/Song.stemdeck" | sed -n 's/.*content-type: //p')
handler=$(gio mime application/x-stemdeck-session | sed -n 's/^Default application.*: //p')
if [ "$type" != application/x-stemdeck-session ] || [ "$handler" != "$id.desktop" ]; then
  echo "test-package: Song.stemdeck is \"$type\", opened by \"$handler\"" >&2
  exit 1
fi
echo "test-package: a .stemdeck file is $type, opened by $handler" >&2

DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y -qq stemdeck >/dev/null
if dpkg-query -W -f='${Status}' stemdeck 2>/dev/null | grep -q "install ok installed" || [ -e /usr/bin/stemdeck ] ||
  [ -e "/usr/share/applications/$id.desktop" ] || [ -e /usr/share/mime/application/x-stemdeck-session.xml ]; then
  echo "test-package: stemdeck is still installed after apt-get purge" >&2
  exit 1
fi
echo "test-package: installed, ran and removed $deb" >&2
