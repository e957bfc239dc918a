#!/usr/bin/env bash
# Builds (release) and runs every benchmark under bench/, each printing its figures as ratios
# against a peer measured in the same run (see bench/README.md). The PyTorch peers need Debian's
# python3-torch, installed here when missing. Run it on a quiet machine: the figures are
# throughput. Every figure is the median of 5 runs with their spread, `median (min-max)`
# (scripts/bench_median.py; MX_BENCH_REPS=N for another count), so one noisy run cannot pass or
# fail a budget. Usage: scripts/bench.sh [name ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

bash scripts/setup.sh
if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "install ok installed"; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi
mx_build build -DMX_USE_CUDA=OFF -DMX_BUILD_BENCH=ON
bash scripts/fetch_mnist.sh data/mnist >/dev/null

benches=("$@")
if [ ${#benches[@]} -eq 0 ]; then
  benches=(engine_bench elemwise_bench fc_bench op_latency op_latency_py memory_plan conv
           resnet_block mnist_mlp mnist_lenet)
  # kvstore is built only with MPI (MX_USE_MPI).
  if [ -x build/bench/kvstore ]; then benches+=(kvstore); fi
fi
# kvstore runs as two workers of one MPI job (the tests' mpirun flags: --bind-to none leaves both
# workers free to use every core), over loopback TCP as workers on separate machines talk, then
# over Open MPI's default transport, shared memory.
mpirun_np2=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2)
median=(/usr/bin/python3 scripts/bench_median.py --)
for b in "${benches[@]}"; do
  mx_section "bench/$b"
  if [ "$b" = kvstore ]; then
    "${median[@]}" "${mpirun_np2[@]}" --mca btl self,tcp --mca btl_tcp_if_include lo \
      --mca oob_tcp_if_include lo ./build/bench/kvstore
    "${median[@]}" "${mpirun_np2[@]}" ./build/bench/kvstore
    continue
  fi
  if [ "$b" = op_latency_py ]; then
    # It prints the median of its own 7 rounds, with met / NOT met verdicts that runs may disagree
    # on (bench_median merges numbers, not words).
    /usr/bin/python3 bench/op_latency_py.py
    continue
  fi
  # op_latency runs its PyTorch peer itself, in the same run.
  "${median[@]}" ./build/bench/"$b"
done
