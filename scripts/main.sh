#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

bash scripts/setup.sh
mx_section "build (release)"
mx_build build -DMX_USE_CUDA=OFF
mx_section "run: examples/c/hello.c"
./build/examples/hello_c
