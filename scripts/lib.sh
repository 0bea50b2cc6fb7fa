# Helpers shared by the project's scripts; sourced, not run.

# Where installed tools live: outside the checkout, so fresh clones reuse them.
TOOLS_DIR="${SPOTIFY_ANALYTICS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/spotify-analytics}"
mkdir -p "$TOOLS_DIR"

say() { printf '\033[1;32m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() {
  printf '\033[1;31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# need COMMAND HINT: stops with HINT when COMMAND is not installed.
need() { command -v "$1" > /dev/null 2>&1 || die "$1 is not installed: $2"; }

# Puts cargo's tools and the pinned wasm-opt first on PATH.
use_project_tools() {
  export PATH="$TOOLS_DIR/binaryen/node_modules/.bin:$HOME/.cargo/bin:$PATH"
}
