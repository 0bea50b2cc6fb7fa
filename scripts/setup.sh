#!/usr/bin/env bash
# Installs what building, running and testing need, reusing what is already
# there: the wasm target, cargo-leptos, the wasm-bindgen CLI matching
# Cargo.lock, a wasm-opt known to keep hydration working, Kafka and FerretDB.
#
#   scripts/setup.sh           tools to build and run
#   scripts/setup.sh --tests   also Chromium and the Playwright packages
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

CARGO_LEPTOS_VERSION="0.3.10"
# Debian's binaryen breaks hydration; this npm release does not.
BINARYEN_VERSION="132.0.0"

with_tests=false
[[ "${1:-}" == "--tests" ]] && with_tests=true

use_project_tools
need cargo "install Rust with rustup (https://rustup.rs)"
need rustup "install Rust with rustup (https://rustup.rs)"
need npm "install Node.js 20 and npm"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(cargo leptos --version 2>/dev/null || true)" != *"$CARGO_LEPTOS_VERSION"* ]]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (compiles for about 20 minutes, once)"
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
fi

# cargo-leptos would download the wasm-bindgen CLI of the version in Cargo.lock; provide it.
wasm_bindgen_version="$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"$/\1/p')"
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $wasm_bindgen_version" ]]; then
  say "installing wasm-bindgen-cli $wasm_bindgen_version"
  # Not --locked: its lock file names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version"
fi

if [[ "$(wasm-opt --version 2>/dev/null || true)" != *"version ${BINARYEN_VERSION%%.*}"* ]]; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION from npm)"
  mkdir -p "$TOOLS_DIR/binaryen"
  (
    cd "$TOOLS_DIR/binaryen"
    [[ -f package.json ]] || echo '{"name": "binaryen-tool", "private": true}' > package.json
    npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
  )
fi

"$ROOT/scripts/stack.sh" install

# PNG cards and charts draw names with the system's fonts: without one that
# has Chinese, Japanese and Korean glyphs, such names become empty boxes.
has_glyphs_of() { fc-list ":lang=$1" 2> /dev/null | grep -q .; }
if [[ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] \
  && ! { has_glyphs_of zh-cn && has_glyphs_of ja && has_glyphs_of ko; }; then
  if command -v apt-get > /dev/null && [[ "$(id -u)" -eq 0 ]]; then
    say "installing a font with Chinese, Japanese and Korean glyphs, for PNG images"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei > /dev/null
  elif $with_tests; then
    die "no font has Chinese, Japanese and Korean glyphs: install fonts-wqy-microhei (Debian) or Noto Sans CJK"
  else
    warn "no font has Chinese, Japanese and Korean glyphs: names in them will be boxes in PNG images; install fonts-wqy-microhei (Debian) or Noto Sans CJK"
  fi
fi

if $with_tests; then
  if [[ ! -x /usr/bin/chromium ]]; then
    say "installing Chromium from Debian for the browser tests"
    command -v apt-get > /dev/null || die "Chromium is missing and apt-get is not available; install Chromium at /usr/bin/chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
  fi
  stamp="$ROOT/end2end/node_modules/.installed-lock"
  if ! cmp -s "$ROOT/end2end/package-lock.json" "$stamp" 2> /dev/null; then
    say "installing the Playwright test runner"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
    cp "$ROOT/end2end/package-lock.json" "$stamp"
  fi
fi
say "tools ready"
