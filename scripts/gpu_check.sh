#!/usr/bin/env bash
# The prepared device check (docs/gpu.md): one call on a machine with a GPU does everything, in
# about 8 minutes on 16 cores.
#   1. builds libmx with CUDA (sm_90) and its tests, examples and benches (build-gpu/);
#   2. runs the GPU tests (ctest -L gpu: every GPU op against the CPU, engine streams and events)
#      and the rest of the unit tests on the CUDA build;
#   3. trains the MNIST MLP (C++, by hand and with FeedForward), LeNet and the ResNet-style net on
#      gpu(0), one epoch each, on data/mnist (scripts/fetch_mnist.sh; carry it to a machine
#      without network);
#   4. runs bench/gpu_bench (cuBLAS GEMM through libmx against cuBLAS itself, small-op latency).
# Every step runs even when an earlier one failed; the summary (one line per step, with its
# figures) goes to stdout and, when $OUT is set, to $OUT/gpu_check.txt with each step's log.
# Exits non-zero when any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
export PATH="$PATH:/usr/local/cuda/bin"
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out"
summary="$out/gpu_check.txt"
: >"$summary"
failed=0
note() { echo "$*" | tee -a "$summary"; }

# step NAME COMMAND...: runs it with its log in $out/NAME.log; records ok/FAILED and the time.
step() {
  local name="$1"
  shift
  local start=$SECONDS
  if "$@" >"$out/$name.log" 2>&1; then
    note "$name: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    note "$name: FAILED ($((SECONDS - start)) s; last lines below)"
    tail -15 "$out/$name.log" | sed 's/^/    /' | tee -a "$summary"
  fi
}

note "gpu_check $(git rev-parse --short HEAD 2>/dev/null) on $(hostname), $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 |
  sed 's/^/device: /' | tee -a "$summary"

# Debian's packages when this is a fresh machine (idempotent; quiet when all are there).
step setup bash scripts/setup.sh
MX_JOBS="${MX_JOBS:-$(nproc)}" step build \
  mx_build build-gpu -DMX_WERROR=ON -DMX_USE_CUDA=ON -DMX_CUDA_ARCHS=90 -DMX_USE_MPI=OFF
step gpu_tests ctest --test-dir build-gpu -L gpu --output-on-failure --timeout 300
grep -E "tests passed|\*\*\*Skipped|\*\*\*Failed" "$out/gpu_tests.log" | sed 's/^/    /' |
  tee -a "$summary"
step unit_tests ctest --test-dir build-gpu -L unit -LE gpu -j "$(nproc)" --timeout 300

# The device machine has no network: bring the digits along (fetch_mnist.sh here, then carry
# data/mnist with the run).
data=data/mnist
step digits bash scripts/fetch_mnist.sh "$data"
for ex in "mnist_mlp" "mnist_mlp --feedforward" "mnist_lenet" "mnist_resnet"; do
  name="${ex// /_}_gpu"
  # shellcheck disable=SC2086
  step "$name" ./build-gpu/examples/$ex --gpu 0 --epochs 1 --data "$data"
  grep -E "test accuracy|samples/s\)" "$out/$name.log" | tail -2 | sed 's/^/    /' |
    tee -a "$summary"
done

step gpu_bench ./build-gpu/bench/gpu_bench
sed 's/^/    /' "$out/gpu_bench.log" | tee -a "$summary"

note "gpu_check: $failed step(s) failed"
[ "$failed" -eq 0 ]
