#!/usr/bin/env python3
"""Where do ape-small models err? Joins `plstm predict` output with the generator's labels.jsonl and bins the test
images by their angular margin: how far (radians) the arrow must turn to reach the other label's region, with the
true positions (positives: to leave the 1.2 r cone; negatives: to enter the r / 1.2 cone), and by a few other
properties. Plain Python 3, no packages.

Usage: python3 bench/analysis/ape_errors.py LABELS.jsonl PRED.txt [PRED.txt ...]
"""
import json
import math
import sys


def margin(s):
    ex, ey = s["cx"] - s["ax"], s["cy"] - s["ay"]
    dist = math.hypot(ex, ey)
    diff = abs(math.remainder(s["phi"] - math.atan2(ey, ex), 2 * math.pi))
    a1 = math.asin(min(1.0, s["r"] / 1.2 / dist))
    a0 = math.asin(min(1.0, 1.2 * s["r"] / dist))
    return (a0 - diff) if s["label"] == 1 else (diff - a1), dist


def read_predictions(path):
    out = {}
    for line in open(path):
        name, rest = line.split(": ", 1)
        index = int(name.rsplit("/", 1)[-1].split(".")[0])
        out[index] = 0 if rest.startswith("not-pointing") else 1
    return out


def main():
    samples = [json.loads(l) for l in open(sys.argv[1])]
    bins = [0.0, 0.05, 0.1, 0.2, 0.4, 10.0]
    for path in sys.argv[2:]:
        pred = read_predictions(path)
        wrong = [s for s in samples if pred[s["index"]] != s["label"]]
        print(f"== {path.rsplit('/', 1)[-1]}: {len(samples) - len(wrong)} / {len(samples)} right "
              f"({1 - len(wrong) / len(samples):.4f})")
        print("   angular margin (rad)   images  errors  error rate")
        for lo, hi in zip(bins, bins[1:]):
            group = [s for s in samples if lo <= margin(s)[0] < hi]
            errors = [s for s in group if pred[s["index"]] != s["label"]]
            rate = len(errors) / len(group) if group else 0.0
            print(f"   [{lo:.2f}, {hi:.2f})        {len(group):6d}  {len(errors):6d}  {rate:.3f}")
        by_label = {l: [s for s in wrong if s["label"] == l] for l in (0, 1)}
        print(f"   errors on positives {len(by_label[1])}, on negatives {len(by_label[0])}")
        far = [s for s in samples if margin(s)[1] > 30]
        far_err = [s for s in far if pred[s["index"]] != s["label"]]
        print(f"   arrow-circle distance > 30 px: {len(far)} images, error rate "
              f"{len(far_err) / max(1, len(far)):.3f}; ≤ 30 px: error rate "
              f"{(len(wrong) - len(far_err)) / max(1, len(samples) - len(far)):.3f}")
        for L in range(5, 10):
            group = [s for s in samples if s["L"] == L]
            errors = [s for s in group if pred[s["index"]] != s["label"]]
            print(f"   arrow length {L}: {len(group)} images, error rate {len(errors) / max(1, len(group)):.3f}")


if __name__ == "__main__":
    main()
