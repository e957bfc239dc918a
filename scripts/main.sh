#!/usr/bin/env bash
# README command 1: install what is missing, build, fetch real MNIST digits, and train the MNIST
# MLP example (784-128-relu-10, batch 128, SGD lr 0.1) for 10 epochs, ending with its test
# accuracy. Extra arguments go to the example (e.g. --epochs 3, --feedforward, --data DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

bash scripts/setup.sh
mx_section "build (release)"
mx_build build -DMX_USE_CUDA=OFF
mx_section "data"
bash scripts/fetch_mnist.sh data/mnist
mx_section "train: examples/cpp/mnist_mlp.cpp"
./build/examples/mnist_mlp --data data/mnist --epochs 10 --batch-size 128 --lr 0.1 --seed 0 "$@"
