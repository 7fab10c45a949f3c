#!/usr/bin/env python3
"""Times the products around a linear map with a bias as cuBLAS runs them at the vision models' 224-px shapes
(M = 128 * 196 rows, K = 192 inputs, float32 without TF32), for several output widths N: the forward with the weight
[N, K] row-major as linear passes it ("tn") or stored transposed [K, N] ("nn"); the input gradient dY.W from either;
the weight gradient as dY^T.X [N, K] or X^T.dY [K, N]; the bias gradient as libtorch's column sum or as a
matrix-vector product dY^T.1. Plus the MLP's down-projection (768 -> 192). Run on the device machine (its PyTorch
drives the same cuBLAS as TorchSharp there): python3 bench/gpu/gemm_products.py
(bench/results/gpu-h200-rows-linear-2026-12-02.md; the first of its two calls ran only the linear layouts and the bias
gradients, as an earlier version of this script.)"""
import torch
torch.backends.cuda.matmul.allow_tf32 = False
M, K = 128 * 196, 192
def t(fn, n=50):
    for _ in range(5): fn()
    s, e = torch.cuda.Event(True), torch.cuda.Event(True)
    torch.cuda.synchronize(); s.record()
    for _ in range(n): fn()
    e.record(); torch.cuda.synchronize(); return s.elapsed_time(e) / n * 1000
def row(name, x, w, b, dy, ones):
    wt = w.t().contiguous()
    r = [t(lambda: torch.addmm(b, x, w.t())), t(lambda: torch.addmm(b, x, wt)), t(lambda: dy.mm(w)), t(lambda: dy.mm(wt.t())),
         t(lambda: dy.t().mm(x)), t(lambda: x.t().mm(dy)), t(lambda: dy.sum(0)), t(lambda: torch.mv(dy.t(), ones))]
    print(f"{name:>5} " + " ".join(f"{v:9.1f}" for v in r))
x = torch.randn(M, K, device="cuda"); ones = torch.ones(M, device="cuda")
print("    N  fwd W[N,K] fwd Wt[K,N]  dX W     dX Wt    dW=dYtX  dWt=XtdY  db sum(0)  db mv   (us)")
for N in (192, 576, 624, 640, 660, 704, 768):
    row(str(N), x, torch.randn(N, K, device="cuda"), torch.randn(N, device="cuda"), torch.randn(M, N, device="cuda"), ones)
row("down", torch.randn(M, 768, device="cuda"), torch.randn(192, 768, device="cuda"), torch.randn(192, device="cuda"),
    torch.randn(M, 192, device="cuda"), ones)
print("torch", torch.__version__, torch.version.cuda)
