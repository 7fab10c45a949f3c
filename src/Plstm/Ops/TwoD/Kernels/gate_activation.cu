// The 2D layer's gate activations (src/Plstm/Ops/TwoD/README.md §"Gate activation"), compiled at run time by NVRTC
// (Plstm.Interop.Cuda.NvrtcCompiler) with REAL = float or double. One item per (batch entry b, head h, orientation o,
// cell c) turns the layer's gate pre-activations into the eight gates of the stacked layout the gate walk reads, and
// back for the gradients: two launches instead of about fifteen small operations and their autograd nodes per layer,
// each of which costs the host more than the GPU at these sizes. A third (plstm_gate_activation_project, below) makes
// the pre-activations from the layer's input itself.
//
// The forward runs one thread per item. The backward's block takes a tile of `tile` consecutive cells of one batch entry
// (grid: x over the tiles, y over b): the pre-activation rows are cell-major ([B, cells, K·4H]) and the gate planes
// cell-minor ([B·H, 4, 8, cells]), so the block stages its rows in shared memory, read and written back row by row —
// consecutive threads on consecutive columns — while its items, c fastest, read the gate planes' gradients in runs of
// consecutive cells. With one thread per item every pre-activation read and gradient write was a 32-byte sector of its
// own (rows 48–84 floats apart). Nsight Compute on an H200, per 224-px layer (B 128, 14², H 3): backward 37 → 20 µs; the
// forward, staged the same way, 14 → 15.5 µs (its reads of the rows hit the cache; it writes no rows), so it stays per
// item (bench/results/gpu-h200-walk-tiles-targets-2026-12-02.md). The staged rows are padded by one value so that items
// of consecutive cells read different banks. The host picks `tile` (at most 32) so that tile · (K·4H + 1) values fit the
// 48 KiB of dynamic shared memory.

__device__ __forceinline__ REAL logistic(REAL x) { return REAL(1) / (REAL(1) + exp(-x)); }

// Stages the pre-activation rows of cells c0 … c0 + n − 1 of batch entry b in `rows` (row length kg + 1).
__device__ __forceinline__ void stage_rows(const REAL* __restrict__ pre, long long stride, REAL* rows, int b, int cells,
    int c0, int n, int kg)
{
    for (int i = threadIdx.x; i < n * kg; i += blockDim.x)
    {
        const int r = i / kg, col = i - r * kg;
        rows[r * (kg + 1) + col] = pre[((long long)b * cells + c0 + r) * stride + col];
    }
}

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

// The eight gates of one (head, orientation) from its K pre-activations row[0], row[G], …, row[(K − 1)·G].
__device__ __forceinline__ void activate(const REAL* row, int G, int mode, REAL factor, REAL g[8])
{
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
    activate(row, G, mode, factor, g);
#pragma unroll
    for (int p = 0; p < 8; p++) out[(long long)p * cells] = g[p];
}

// The forward from the layer's input rows instead of its projection output (ProjectedGateAttention, CUDA float32, D-mode
// layers, opt-in): the pre-activations are x·wᵀ + bias for the K·4H gate rows w of the layer's stacked projection, which
// then need not widen the layer's matrix product (at 224 px its 660 columns sit past a cuBLAS tile boundary that 576 do
// not). Column n = 4h + o of every kind reads only its own `sub` = D/(4H) input channels (the block-diagonal rows
// SubHeadAffine.Dense makes; zero elsewhere, and so not read). The block (8 warps) takes a tile of `tile` ≤ 32
// consecutive cells of one batch entry (grid: x over the tiles, y over b) and stages in shared memory their input rows
// (a warp per row, lanes along the channels: coalesced; padded by one value), the gate rows' blocks and biases, and
// then their pre-activations: lane = cell, each warp a column at a time (the weights a broadcast, the staged rows read
// conflict-free). It writes the pre-activation rows to `keep` ([B, cells, K·4H], what the backward reads; a warp per
// row) and activates them, lane = cell, each warp a (head, orientation) at a time (the gate planes written coalesced).
// Per 224-px layer on an H200 (Nsight Compute), against the plain activation's 16 µs: this form 50.5 µs, bound by
// issuing its instructions (53 % of the issue slots busy, ≈ 1.75 instructions per multiply-add: each reads its operands
// from shared memory; memory throughput 36 %), so ≈ 20 µs would need register tiles; earlier forms: one thread per item
// reading its channels of x from memory (each load touching 32 rows) 69 µs; a tile staged by items with a division per
// element and the weights read from memory 47–54 µs.
extern "C" __global__ void plstm_gate_activation_project(const REAL* __restrict__ x, int D, const REAL* __restrict__ w,
    const REAL* __restrict__ bias, REAL* __restrict__ gates, REAL* __restrict__ keep, int B, int H, int cells, int mode,
    REAL factor, int kinds, int tile)
{
    extern __shared__ unsigned char staged_bytes[];
    const int G = 4 * H, kg = kinds * G, sub = D / G, b = blockIdx.y, c0 = blockIdx.x * tile, n = min(tile, cells - c0);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    REAL* xs = reinterpret_cast<REAL*>(staged_bytes);                                   // [tile, D + 1]
    REAL* ws = xs + tile * (D + 1);                                                      // [kg, sub + 1]
    REAL* bs = ws + kg * (sub + 1);                                                      // [kg]
    REAL* rows = bs + kg;                                                                // [tile, kg + 1]
    const REAL* xb = x + ((long long)b * cells + c0) * D;
    for (int r = warp; r < n; r += warps)
        for (int c = lane; c < D; c += 32) xs[r * (D + 1) + c] = xb[(long long)r * D + c];
    for (int col = warp; col < kg; col += warps)
    {
        const REAL* wr = w + (long long)col * D + (col % G) * sub;
        for (int j = lane; j < sub; j += 32) ws[col * (sub + 1) + j] = wr[j];
        if (lane == 0) bs[col] = bias[col];
    }
    __syncthreads();
    if (lane < n)
    {
        const REAL* xr = xs + lane * (D + 1);
        for (int col = warp; col < kg; col += warps)
        {
            const REAL* wc = ws + col * (sub + 1);
            const REAL* xc = xr + (col % G) * sub;
            REAL acc = bs[col];
#pragma unroll 4
            for (int j = 0; j < sub; j++) acc += wc[j] * xc[j];
            rows[lane * (kg + 1) + col] = acc;
        }
    }
    __syncthreads();
    REAL* kb = keep + ((long long)b * cells + c0) * kg;
    for (int r = warp; r < n; r += warps)
        for (int col = lane; col < kg; col += 32) kb[(long long)r * kg + col] = rows[r * (kg + 1) + col];
    if (lane < n)
        for (int ho = warp; ho < G; ho += warps)
        {
            const int h = ho >> 2, o = ho & 3;
            REAL g[8];
            activate(rows + lane * (kg + 1) + ho, G, mode, factor, g);
            REAL* out = gates + (((long long)(b * H + h) * 4 + o) * 8) * cells + c0 + lane;
#pragma unroll
            for (int p = 0; p < 8; p++) out[(long long)p * cells] = g[p];
        }
}

// Each item overwrites its own staged values (columns k·4H + 4h + o of its cell's row) with their gradients; the block
// then writes the rows out as it read them.
extern "C" __global__ void plstm_gate_activation_backward(const REAL* __restrict__ pre, long long stride,
    const REAL* __restrict__ dGates, REAL* __restrict__ dPre, long long dstride, int B, int H, int cells, int mode,
    REAL factor, int kinds, int tile)
{
    extern __shared__ unsigned char staged_bytes[];
    REAL* rows = reinterpret_cast<REAL*>(staged_bytes);
    const int G = 4 * H, kg = kinds * G, b = blockIdx.y, c0 = blockIdx.x * tile, n = min(tile, cells - c0);
    stage_rows(pre, stride, rows, b, cells, c0, n, kg);
    __syncthreads();
    for (int j = threadIdx.x; j < G * n; j += blockDim.x)
    {
        const int ho = j / n, cl = j - ho * n, h = ho >> 2, o = ho & 3;
        REAL* row = rows + cl * (kg + 1) + ho;
        const REAL* d = dGates + (((long long)(b * H + h) * 4 + o) * 8) * cells + c0 + cl;
        REAL g[8];
#pragma unroll
        for (int p = 0; p < 8; p++) g[p] = d[(long long)p * cells];
        if (mode == 0)
        {
            REAL w = logistic(row[0]), s = logistic(row[G]), m = logistic(row[2 * G]), t = tanh(factor * row[3 * G]);
            REAL a = g[0] - g[1], e = g[2] + g[5] - g[3] - g[4];
            row[0] = (a * s + e * t) * w * (REAL(1) - w);
            row[G] = a * w * s * (REAL(1) - s);
            row[2 * G] = (g[6] + g[7]) * m * (REAL(1) - m);
            row[3 * G] = e * w * factor * (REAL(1) - t * t);
        }
        else
        {
            REAL sr = logistic(row[0]), sd = logistic(row[G]), ml = logistic(row[2 * G]), mu = logistic(row[3 * G]);
            REAL trl = tanh(factor * row[4 * G]), tdu = tanh(factor * row[5 * G]), turn = tanh(factor * row[6 * G]);
            row[0] = g[0] * sr * (REAL(1) - sr);
            row[G] = g[1] * sd * (REAL(1) - sd);
            row[2 * G] = g[6] * ml * (REAL(1) - ml);
            row[3 * G] = g[7] * mu * (REAL(1) - mu);
            row[4 * G] = g[2] * factor * (REAL(1) - trl * trl);
            row[5 * G] = g[3] * factor * (REAL(1) - tdu * tdu);
            row[6 * G] = (mode == 1 ? g[5] : g[4]) * factor * (REAL(1) - turn * turn);
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < n * kg; i += blockDim.x)
    {
        const int r = i / kg, col = i - r * kg;
        dPre[((long long)b * cells + c0 + r) * dstride + col] = rows[r * (kg + 1) + col];
    }
}
