#!/usr/bin/env python3
"""Compiles the runtime-compiled CUDA kernels with NVRTC on a machine without a GPU, to catch source errors before a
device call (NVRTC needs no GPU). The library: PLSTM_NVRTC, else libnvrtc.so.* from the usual folders (on Debian 12:
`apt-get install libnvrtc11.2 libnvrtc-builtins11.8` from non-free). Each kernel file is compiled to PTX for
compute_80 (the newest architecture every NVRTC since 11.0 knows) with the definitions its C# host passes, for a few
grids, both dtypes and where it has one, both chiralities (and the gate walk's measurement switches flipped). Exit status 1 on any error, with NVRTC's log.

    python3 bench/gpu/nvrtc_check.py [FILE.cu …]     (default: every file under src/Plstm/Ops/TwoD/Kernels)
"""
import ctypes, glob, os, sys

def load():
    cands = [os.environ.get("PLSTM_NVRTC")] if os.environ.get("PLSTM_NVRTC") else []
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/local/cuda/lib64", "/usr/lib64"):
        cands += sorted(glob.glob(os.path.join(d, "libnvrtc.so*")), reverse=True)
    for c in cands:
        try: return ctypes.CDLL(c), c
        except OSError: pass
    sys.exit("nvrtc_check: no libnvrtc found (set PLSTM_NVRTC)")

nv, path = load()

def compile_one(source, name, defines):
    prog = ctypes.c_void_p()
    rc = nv.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(), 0, None, None)
    if rc: return f"create failed ({rc})"
    opts = [f"-D{k}={v}".encode() for k, v in defines.items()] + [b"--gpu-architecture=compute_80", b"--std=c++17"]
    arr = (ctypes.c_char_p * len(opts))(*opts)
    rc = nv.nvrtcCompileProgram(prog, len(opts), arr)
    size = ctypes.c_size_t(); nv.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value); nv.nvrtcGetProgramLog(prog, log)
    nv.nvrtcDestroyProgram(ctypes.byref(prog))
    text = log.value.decode(errors="replace").strip()
    return (text or f"error {rc}") if rc else (text if "warning" in text else None)

GRIDS = [(1, 1), (3, 5), (14, 14), (16, 64), (32, 32)]
def variants(base):
    reals = ["float", "double"]
    if base == "fused_gate.cu":
        for r in reals:
            for gx, gy in GRIDS + [(64, 64)]:
                yield dict(REAL=r, GX=gx, GY=gy, BLOCK=128, BLOCK_BWD=128 if gx * gy <= 1024 else 256)
        # The measurement switches, each flipped from its default, float32 at the vision grid and a large one.
        for switch in ({"SMEM_GATES_BWD": 0}, {"SMEM_GATES_BWD": 1}, {"SMEM_PAIRS": 0}, {"SMEM_PAIRS": 1}, {"SMEM_GATES": 0}, {"SHARED_LU": 1, "SEG": 3}, {"PAIRS": 0},
                       {"TILE_X": 4, "TILE_Y": 8}, {"TILE_X": 8, "TILE_Y": 4}, {"TILE_X": 1, "TILE_Y": 32}, {"WALK2_LEAN": 1}):
            for gx, gy in ((3, 5), (14, 14), (32, 32)):
                yield dict(REAL="float", GX=gx, GY=gy, BLOCK=128, BLOCK_BWD=128, **switch)
    elif base == "single_path_gate.cu":
        for r in reals:
            for gx, gy in GRIDS + [(64, 16)]:
                for t in (0, 1):
                    ft = min(256, (gx * gy + 31) // 32 * 32)
                    yield dict(REAL=r, GX=gx, GY=gy, TRANSPOSE=t, FORWARD_THREADS=ft)
                    if r == "float": yield dict(REAL=r, GX=gx, GY=gy, TRANSPOSE=t, FORWARD_THREADS=ft, TARGETS=4)
    elif base == "masked_attention.cu":
        # Every backward tile the fused backward takes (16, 32, 64) and one it leaves to the two kernels (8).
        for dk, dv in ((16, 16), (64, 64), (24, 40), (8, 56)):
            for bt in (8, 16, 32, 64):
                yield dict(DK=dk, DV=dv, FWD_TILE=64, BWD_TILE=bt, MIN_BLOCKS=3 if bt == 32 else 1)
            for bt in (16, 32):
                yield dict(DK=dk, DV=dv, FWD_TILE=64, BWD_TILE=bt, MIN_BLOCKS=3, TF32_PASSES=1)
    elif base == "gate_activation.cu":
        for r in reals: yield dict(REAL=r)
    elif base == "rms_norm_rows.cu":
        for w in (1, 8, 31, 64, 192, 200, 384, 1024): yield dict(WIDTH=w)
    else:
        yield {}

files = sys.argv[1:] or sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "src/Plstm/Ops/TwoD/Kernels/*.cu")))
failed = 0; count = 0
for f in files:
    src = open(f, encoding="utf-8").read(); base = os.path.basename(f)
    for d in variants(base):
        count += 1
        msg = compile_one(src, base, d)
        if msg:
            bad = "error" in msg.lower()
            failed += bad
            print(f"{'FAIL' if bad else 'warn'} {base} {d}\n{msg}\n")
print(f"nvrtc_check ({os.path.basename(path)}): {count - failed} of {count} compiles clean")
sys.exit(1 if failed else 0)
