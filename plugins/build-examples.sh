#!/usr/bin/env bash
# Build the guest plugins for wasm32-wasip2 and put the components where the host and its
# tests load them:
#   examples/fr-jurisdiction  -> examples/fr-jurisdiction/plugin/fr_jurisdiction.wasm
#   examples/iom-partner      -> examples/iom-partner/plugin/iom_partner.wasm
#   tests/hostile             -> tests/hostile/hostile.wasm
# and write each example's sha256 into its plugin.toml. (tests/fixtures/api-0.1/ holds the
# examples as built for plugin API 0.1: frozen, never rebuilt, so that the host's tests
# keep loading a 0.1 component.)
#
#   plugins/build-examples.sh          build and update the committed components
#   plugins/build-examples.sh --check  build, and exit 1 if a fresh component differs
#                                      from the committed one (nothing is changed)
#
# Builds are reproducible: pinned toolchain (PASSERELLE_GUEST_TOOLCHAIN, default 1.95.0),
# locked dependencies (each guest's Cargo.lock is committed), built from a copy at a
# fixed path with paths remapped, no timestamps in the components, one codegen unit. Set PASSERELLE_GUEST_TARGET_DIR to
# choose where cargo builds (default: $CARGO_TARGET_DIR/guests, else plugins/target).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

toolchain="${PASSERELLE_GUEST_TOOLCHAIN:-1.95.0}"
target_dir="${PASSERELLE_GUEST_TARGET_DIR:-${CARGO_TARGET_DIR:-$here/target}/guests}"

run() { echo "+ $*"; "$@"; }

if ! rustup +"$toolchain" target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  run rustup target add --toolchain "$toolchain" wasm32-wasip2
fi

# Build from a copy at a fixed path: the absolute path of a path dependency enters
# rustc's crate hashes (and so the component), whatever --remap-path-prefix does, so a
# build must not depend on where the repository is checked out.
stage_root="${PASSERELLE_GUEST_STAGE:-/tmp/passerelle-guest-build}"
stage="$stage_root/plugins"
rm -rf "$stage"
mkdir -p "$stage/tests"
cp -r "$here/wit" "$here/sdk" "$here/examples" "$stage/"
cp -r "$here/tests/hostile" "$stage/tests/"

sysroot="$(rustup run "$toolchain" rustc --print sysroot)"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
export CARGO_TARGET_DIR="$target_dir"
export SOURCE_DATE_EPOCH=0
export RUSTFLAGS="--remap-path-prefix=$stage=/passerelle/plugins --remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$sysroot=/rustc --remap-path-prefix=$target_dir=/target"
unset CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

status=0
# crate dir (under plugins/), wasm file name, destination dir (under plugins/), manifest?
build() {
  local crate="$1" wasm="$2" dest="$3" manifest="$4"
  echo "== $crate"
  run rustup run "$toolchain" cargo build --release --locked --target wasm32-wasip2 \
    --manifest-path "$stage/$crate/Cargo.toml"
  local fresh="$target_dir/wasm32-wasip2/release/$wasm"
  local committed="$here/$dest/$wasm"
  local sha
  sha="$(sha256sum "$fresh" | cut -d' ' -f1)"
  echo "   built $wasm: $(wc -c < "$fresh") bytes, sha256 $sha"
  if [[ $check == 1 ]]; then
    local old="(missing)"
    [[ -f "$committed" ]] && old="$(sha256sum "$committed" | cut -d' ' -f1)"
    if [[ "$old" != "$sha" ]]; then
      echo "   STALE: committed $dest/$wasm has sha256 $old; run plugins/build-examples.sh and commit" >&2
      status=1
    elif [[ $manifest == yes ]] && ! grep -q "^sha256 = \"$sha\"" "$here/$dest/plugin.toml"; then
      echo "   STALE: $dest/plugin.toml does not carry sha256 $sha" >&2
      status=1
    else
      echo "   up to date: $dest/$wasm"
    fi
  else
    mkdir -p "$here/$dest"
    run cp "$fresh" "$committed"
    if [[ $manifest == yes ]]; then
      echo "   sha256 -> $dest/plugin.toml"
      sed -i "s/^sha256 = \".*\"/sha256 = \"$sha\"/" "$here/$dest/plugin.toml"
    fi
  fi
}

build examples/fr-jurisdiction fr_jurisdiction.wasm examples/fr-jurisdiction/plugin yes
build examples/iom-partner iom_partner.wasm examples/iom-partner/plugin yes
build tests/hostile hostile.wasm tests/hostile no

if [[ $check == 1 ]]; then
  if [[ $status == 0 ]]; then echo "all committed components match a fresh build"; fi
  exit $status
fi
echo "done: components and digests updated"
