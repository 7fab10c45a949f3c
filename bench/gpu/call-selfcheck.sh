#!/usr/bin/env bash
# One device call (2026-12-01, seventeenth session): `plstm selfcheck` alone on the committed build (136 cases since
# 40 × 20 joined the grids: more than 32 lines in at most 1,024 cells).
set -u
OUT=${OUT:-/tmp/out}
timeout 250 bash .gpu/run.sh selfcheck 2>&1 | grep -E "FAIL|kernels:|cases agree"
