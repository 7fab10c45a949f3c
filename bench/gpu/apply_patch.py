#!/usr/bin/env python3
"""Applies the hunks of a unified diff (`git diff` output) for one file to a copy of it, for the device-call scripts
(the lent machine may have neither `patch` nor a git checkout). Each hunk's old lines must match exactly, in order;
anything else is an error (exit 1).

Usage: apply_patch.py PATCH REPO_PATH TARGET
  PATCH      the diff file (it may hold other files' hunks too)
  REPO_PATH  the path the diff names (b/ side without the prefix), e.g. src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
  TARGET     the file to change in place (a copy of REPO_PATH)
"""
import sys


def hunks(diff_lines, repo_path):
    """The hunks of repo_path: lists of (kind, text) with kind ' ', '-' or '+'."""
    current, inside = None, False
    for line in diff_lines:
        if line.startswith("diff --git "):
            inside = line.rstrip("\n").endswith(" b/" + repo_path)
            continue
        if not inside or line.startswith(("--- ", "+++ ", "index ")):
            continue
        if line.startswith("@@"):
            if current:
                yield current
            current = []
        elif current is not None and line[:1] in (" ", "-", "+"):
            current.append((line[0], line[1:]))
        elif current is not None and line.startswith("\\"):
            continue
    if current:
        yield current


def main(patch, repo_path, target):
    text = open(target).read().splitlines(keepends=True)
    found = list(hunks(open(patch).read().splitlines(keepends=True), repo_path))
    if not found:
        sys.exit(f"apply_patch: no hunks for {repo_path} in {patch}")
    at = 0
    for number, hunk in enumerate(found, 1):
        old = [t for k, t in hunk if k in (" ", "-")]
        new = [t for k, t in hunk if k in (" ", "+")]
        for start in range(at, len(text) - len(old) + 1):
            if text[start:start + len(old)] == old:
                text[start:start + len(old)] = new
                at = start + len(new)
                break
        else:
            sys.exit(f"apply_patch: hunk {number} of {repo_path} does not match {target}")
    open(target, "w").write("".join(text))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
