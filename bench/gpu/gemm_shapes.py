#!/usr/bin/env python3
"""Times the 2D layer's stacked projection as cuBLAS runs it, for several output widths N (the D-mode layer's 660
columns took a 128x64-tile kernel at 255 us against the P-mode layer's 624 columns' 256x64 tiles at 208 us in the
224-px Nsight list): forward addmm, input gradient dY.W and weight gradient dY^T.X, M = 128 * 196 rows, K = 192.
Run on the device machine (its PyTorch drives the same libtorch/cuBLAS as TorchSharp there):
    python3 bench/gpu/gemm_shapes.py"""
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
ones = torch.ones(M, device="cuda")
print("N      fwd us   dX us   dW us   dB us   sum     dB as mv")
for N in (576, 624, 640, 660, 672, 688, 704, 768):
    w = torch.randn(N, K, device="cuda"); b = torch.randn(N, device="cuda"); dy = torch.randn(M, N, device="cuda")
    f = t(lambda: torch.addmm(b, x, w.t())); dx = t(lambda: dy.mm(w)); dw = t(lambda: dy.t().mm(x)); db = t(lambda: dy.sum(0))
    mv = t(lambda: torch.mv(dy.t(), ones))
    print(f"{N:4d} {f:8.1f} {dx:7.1f} {dw:7.1f} {db:7.1f} {f+dx+dw+db:7.1f} {mv:7.1f}")
for N in (192, 768):  # the MLP's and the out-projection's bias gradients
    dy = torch.randn(M, N, device="cuda")
    print(f"bias grad N={N}: sum(0) {t(lambda: dy.sum(0)):.1f} us, mv {t(lambda: torch.mv(dy.t(), ones)):.1f} us")
print("torch", torch.__version__, torch.version.cuda)
