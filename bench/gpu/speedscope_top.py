#!/usr/bin/env python3
"""Inclusive and exclusive time per frame from a speedscope file (`dotnet-trace convert --format speedscope`).

Usage: speedscope_top.py FILE.speedscope.json [--from FRACTION] [--top N] [--match TEXT]
Reads every thread's evented profile; --from 0.5 keeps the second half of each thread's events by time (steady state
after warm-up). Prints, per thread with samples, the frames by inclusive time (a frame counted once per stack even when
recursive) and by exclusive time. --match keeps only frames whose name contains TEXT in the inclusive list.
Used to read the host profile of `plstm bench step` (call-step-host-trace.sh).
"""
import collections
import json
import sys


def main(args):
    path = args[0]
    start = float(args[args.index("--from") + 1]) if "--from" in args else 0.0
    top = int(args[args.index("--top") + 1]) if "--top" in args else 40
    match = args[args.index("--match") + 1] if "--match" in args else None
    doc = json.load(open(path))
    frames = [f["name"] for f in doc["shared"]["frames"]]
    for prof in doc["profiles"]:
        events = prof.get("events", [])
        if len(events) < 100:
            continue
        t0, t1 = prof["startValue"], prof["endValue"]
        cut = t0 + start * (t1 - t0)
        incl = collections.Counter()
        excl = collections.Counter()
        stack = []
        last = None
        for e in events:
            at = e["at"]
            if last is not None and stack and at > cut:
                dt = at - max(last, cut)
                if dt > 0:
                    for f in set(stack):
                        incl[f] += dt
                    excl[stack[-1]] += dt
            last = at
            if e["type"] == "O":
                stack.append(e["frame"])
            else:
                # close the matching frame (speedscope closes in LIFO order)
                if stack and stack[-1] == e["frame"]:
                    stack.pop()
                elif e["frame"] in stack:
                    idx = len(stack) - 1 - stack[::-1].index(e["frame"])
                    del stack[idx]
        total = t1 - cut
        print(f"== {prof['name']}: {total:.0f} {prof.get('unit', '')} in window")
        print("-- inclusive")
        shown = 0
        for f, t in incl.most_common():
            name = frames[f]
            if match and match not in name:
                continue
            print(f"{t:10.1f} {100 * t / total:5.1f}%  {name[:150]}")
            shown += 1
            if shown >= top:
                break
        print("-- exclusive")
        for f, t in excl.most_common(top):
            print(f"{t:10.1f} {100 * t / total:5.1f}%  {frames[f][:150]}")


if __name__ == "__main__":
    main(sys.argv[1:])
