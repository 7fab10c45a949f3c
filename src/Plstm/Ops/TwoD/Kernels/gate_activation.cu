// The 2D layer's gate activations (src/Plstm/Ops/TwoD/README.md §"Gate activation"), compiled at run time by NVRTC
// (Plstm.Interop.Cuda.NvrtcCompiler) with REAL = float or double. One thread per (batch entry b, head h, orientation o,
// cell c) turns the layer's gate pre-activations into the eight gates of the stacked layout the gate walk reads, and
// back for the gradients: two launches instead of about fifteen small operations and their autograd nodes per layer,
// each of which costs the host more than the GPU at these sizes.
//
// Input pre [B, cells, K·4H] with row stride `stride` (a view of the layer's projection output), column k·4H + 4h + o
// for gate kind k. Output gates [B·H, 4, 8, cells]: 0 S0r, 1 S0d, 2 T0rl, 3 T0du, 4 T0dl, 5 T0ru, 6 M0l, 7 M0u.
// With σ the logistic function and f the transition factor:
//   mode 0, P-mode (kinds o, s, m, t):    ω = σ(o), S = σ(s), M = σ(m), T = tanh(f·t)
//       S0r = ω S, S0d = 1 − ω S, T0rl = T0ru = ω T, T0du = T0dl = 1 − ω T, M0l = M0u = M
//   mode 1 and 2, D-mode (kinds sr, sd, ml, mu, trl, tdu, trd): S0r = σ(sr), S0d = σ(sd), M0l = σ(ml), M0u = σ(mu),
//       T0rl = tanh(f·trl), T0du = tanh(f·tdu); chirality L (mode 1) T0ru = tanh(f·trd), T0dl = 0; R (mode 2) the other way.
// The backward recomputes the activations from pre and writes d pre [B, cells, K·4H] with row stride `dstride` (every
// entry once; the 2D layer passes the gate columns of its projection gradient, so no concatenation follows):
//   P: a = dS0r − dS0d, b = dT0rl + dT0ru − dT0du − dT0dl;  d o = (a S + b T) ω(1 − ω), d s = a ω S(1 − S),
//      d m = (dM0l + dM0u) M(1 − M), d t = b ω f (1 − T²)
//   D: each kind from its gate's gradient, σ' = σ(1 − σ), tanh' = f (1 − tanh²).
// GateActivation.cs mirrors these formulas with tensor operations (the CPU path, tested against autograd); `plstm
// selfcheck` compares this kernel with that path on the GPU.

__device__ __forceinline__ REAL logistic(REAL x) { return REAL(1) / (REAL(1) + exp(-x)); }

// Decomposes thread i into (b, h, o, c), c fastest: the eight gate planes are written coalesced.
__device__ __forceinline__ bool locate(long long i, int B, int H, int cells, int& b, int& h, int& o, int& c)
{
    if (i >= (long long)B * H * 4 * cells) return false;
    c = (int)(i % cells);
    long long r = i / cells;
    o = (int)(r % 4);
    r /= 4;
    h = (int)(r % H);
    b = (int)(r / H);
    return true;
}

// keep (may be null): the pre-activations this thread read, written to a contiguous [B, cells, K·4H] copy that the
// backward reads (saving the strided view would keep the whole projection output alive; the layer's in-place path,
// ProjectedGateAttention, saves that output anyway for its q, k, v and passes null).
extern "C" __global__ void plstm_gate_activation_forward(const REAL* __restrict__ pre, long long stride,
    REAL* __restrict__ gates, REAL* __restrict__ keep, int B, int H, int cells, int mode, REAL factor, int kinds)
{
    int b, h, o, c;
    if (!locate(blockIdx.x * (long long)blockDim.x + threadIdx.x, B, H, cells, b, h, o, c)) return;
    const int G = 4 * H;
    const REAL* row = pre + ((long long)b * cells + c) * stride + 4 * h + o;
    if (keep != nullptr)
    {
        REAL* kept = keep + ((long long)b * cells + c) * ((long long)kinds * G) + 4 * h + o;
        for (int k = 0; k < kinds; k++) kept[k * G] = row[k * G];
    }
    REAL* out = gates + (((long long)(b * H + h) * 4 + o) * 8) * cells + c;
    REAL g[8];
    if (mode == 0)
    {
        REAL w = logistic(row[0]), s = logistic(row[G]), m = logistic(row[2 * G]), t = tanh(factor * row[3 * G]);
        REAL ws = w * s, wt = w * t;
        g[0] = ws; g[1] = REAL(1) - ws; g[2] = wt; g[3] = REAL(1) - wt; g[4] = REAL(1) - wt; g[5] = wt; g[6] = m; g[7] = m;
    }
    else
    {
        REAL turn = tanh(factor * row[6 * G]);
        g[0] = logistic(row[0]); g[1] = logistic(row[G]); g[6] = logistic(row[2 * G]); g[7] = logistic(row[3 * G]);
        g[2] = tanh(factor * row[4 * G]); g[3] = tanh(factor * row[5 * G]);
        g[4] = mode == 2 ? turn : REAL(0);
        g[5] = mode == 1 ? turn : REAL(0);
    }
#pragma unroll
    for (int p = 0; p < 8; p++) out[(long long)p * cells] = g[p];
}

extern "C" __global__ void plstm_gate_activation_backward(const REAL* __restrict__ pre, long long stride,
    const REAL* __restrict__ dGates, REAL* __restrict__ dPre, long long dstride, int B, int H, int cells, int mode,
    REAL factor, int kinds)
{
    int b, h, o, c;
    if (!locate(blockIdx.x * (long long)blockDim.x + threadIdx.x, B, H, cells, b, h, o, c)) return;
    const int G = 4 * H;
    const REAL* row = pre + ((long long)b * cells + c) * stride + 4 * h + o;
    REAL* drow = dPre + ((long long)b * cells + c) * dstride + 4 * h + o;
    const REAL* d = dGates + (((long long)(b * H + h) * 4 + o) * 8) * cells + c;
    REAL g[8];
#pragma unroll
    for (int p = 0; p < 8; p++) g[p] = d[(long long)p * cells];
    if (mode == 0)
    {
        REAL w = logistic(row[0]), s = logistic(row[G]), m = logistic(row[2 * G]), t = tanh(factor * row[3 * G]);
        REAL a = g[0] - g[1], e = g[2] + g[5] - g[3] - g[4];
        drow[0] = (a * s + e * t) * w * (REAL(1) - w);
        drow[G] = a * w * s * (REAL(1) - s);
        drow[2 * G] = (g[6] + g[7]) * m * (REAL(1) - m);
        drow[3 * G] = e * w * factor * (REAL(1) - t * t);
    }
    else
    {
        REAL sr = logistic(row[0]), sd = logistic(row[G]), ml = logistic(row[2 * G]), mu = logistic(row[3 * G]);
        REAL trl = tanh(factor * row[4 * G]), tdu = tanh(factor * row[5 * G]), turn = tanh(factor * row[6 * G]);
        drow[0] = g[0] * sr * (REAL(1) - sr);
        drow[G] = g[1] * sd * (REAL(1) - sd);
        drow[2 * G] = g[6] * ml * (REAL(1) - ml);
        drow[3 * G] = g[7] * mu * (REAL(1) - mu);
        drow[4 * G] = g[2] * factor * (REAL(1) - trl * trl);
        drow[5 * G] = g[3] * factor * (REAL(1) - tdu * tdu);
        drow[6 * G] = (mode == 1 ? g[5] : g[4]) * factor * (REAL(1) - turn * turn);
    }
}
