#!/usr/bin/env python3
"""Times the stacked projection's three products in both operand layouts cuBLAS may get (bench/gpu/gemm_shapes.py
measured only the layouts libtorch's linear uses): forward with the weight [N, K] row-major (linear: "tn") or stored
transposed [K, N] ("nn"); the input gradient dY.W from either; the weight gradient as dY^T.X [N, K] or X^T.dY [K, N].
M = 128 * 196 rows, K = 192. Run on the device machine: python3 bench/gpu/gemm_layouts.py"""
import torch
torch.backends.cuda.matmul.allow_tf32 = False
M, K = 128 * 196, 192
def t(fn, n=50):
    for _ in range(5): fn()
    s, e = torch.cuda.Event(True), torch.cuda.Event(True)
    torch.cuda.synchronize(); s.record()
    for _ in range(n): fn()
    e.record(); torch.cuda.synchronize(); return s.elapsed_time(e) / n * 1000
x = torch.randn(M, K, device="cuda")
print("N    fwd W[N,K] fwd Wt[K,N]  dX W  dX Wt  dW=dYtX  dWt=XtdY  (us)")
for N in (192, 576, 624, 640, 660, 704, 768):
    w = torch.randn(N, K, device="cuda"); wt = w.t().contiguous(); b = torch.randn(N, device="cuda")
    dy = torch.randn(M, N, device="cuda")
    r = [t(lambda: torch.addmm(b, x, w.t())), t(lambda: torch.addmm(b, x, wt)), t(lambda: dy.mm(w)), t(lambda: dy.mm(wt.t())),
         t(lambda: dy.t().mm(x)), t(lambda: x.t().mm(dy))]
    print(f"{N:4d} " + " ".join(f"{v:9.1f}" for v in r))
# the MLP's down-projection: K = 768 in, N = 192 out
xw = torch.randn(M, 768, device="cuda"); w = torch.randn(192, 768, device="cuda"); wt = w.t().contiguous(); dy = torch.randn(M, 192, device="cuda"); b = torch.randn(192, device="cuda")
r = [t(lambda: torch.addmm(b, xw, w.t())), t(lambda: torch.addmm(b, xw, wt)), t(lambda: dy.mm(w)), t(lambda: dy.mm(wt.t())),
     t(lambda: dy.t().mm(xw)), t(lambda: xw.t().mm(dy))]
print("down " + " ".join(f"{v:9.1f}" for v in r))
print("torch", torch.__version__)
