# Shared by scripts/main.sh and scripts/test.sh: configure + build one build directory.
# Usage: mx_build <build-dir> [extra cmake args...]

MX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MX_JOBS="${MX_JOBS:-$(nproc)}"

# ccache, when present, lets a fresh clone (CI) reuse earlier compilations: paths are hashed
# relative to the checkout.
MX_LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$MX_ROOT"
  export CCACHE_NOHASHDIR=1
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
  MX_LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
               -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi

mx_build() {
  local dir="$1"
  shift
  mkdir -p "$MX_ROOT/$dir"
  cmake -S "$MX_ROOT" -B "$MX_ROOT/$dir" -DCMAKE_BUILD_TYPE=Release "${MX_LAUNCHER[@]}" "$@" \
    >"$MX_ROOT/$dir/configure.log" 2>&1 || { cat "$MX_ROOT/$dir/configure.log"; return 1; }
  local start=$SECONDS
  if ! cmake --build "$MX_ROOT/$dir" -j "$MX_JOBS" >"$MX_ROOT/$dir/build.log" 2>&1; then
    grep -n -E "error|Error" "$MX_ROOT/$dir/build.log" | head -60
    tail -20 "$MX_ROOT/$dir/build.log"
    echo "build of $dir failed (full log: $dir/build.log)"
    return 1
  fi
  echo "built $dir in $((SECONDS - start)) s"
}

mx_section() { printf '\n==== %s ====\n' "$*"; }
