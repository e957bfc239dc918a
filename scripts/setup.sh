#!/usr/bin/env bash
# Installs what libmx needs from Debian's packages, idempotently: packages already installed are
# skipped, and apt-get runs only when something is missing. Used by scripts/main.sh and
# scripts/test.sh; safe to run by hand.
set -euo pipefail

packages=(
  g++ cmake make pkg-config ccache
  libopenblas-openmp-dev  # only the OpenMP variant: BLAS and our kernels share one OpenMP runtime
  libopenblas0-serial     # the ThreadSanitizer build's BLAS: no threads TSan cannot see
  libdmlc-dev             # dmlc-core: typed parameters, JSON, streams
  libdnnl-dev             # oneDNN: convolution, pooling, batch norm on the CPU
  libgtest-dev            # GoogleTest
  zlib1g-dev              # gzip'ed MNIST files
  libopenmpi-dev openmpi-bin  # MPI: the dist_sync key-value store, launched with mpirun
  clang-format            # style check in CI
  clang libclang-rt-14-dev  # the fuzz gate: clang with libFuzzer and its sanitizer runtimes
  python3-numpy python3-pytest  # the Python binding's tests (/usr/bin/python3)
  python3-dev             # the binding's C fast path (python/mx/_fast.c)
  python3-torch           # DLPack exchange tests with PyTorch (large: about 2.5 min to install)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all ${#packages[@]} packages present"
fi

# Headers and library must come from the same OpenBLAS variant.
if dpkg-query -W -f='${Status}' libopenblas-pthread-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "setup: warning: libopenblas-pthread-dev is installed too; libmx builds against the" \
       "OpenMP variant's headers (/usr/include/x86_64-linux-gnu/openblas-openmp)" >&2
fi
