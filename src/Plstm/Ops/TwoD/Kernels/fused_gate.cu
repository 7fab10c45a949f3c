// The fused gating matrix 𝒢 of the 2D operator with scalar gates (README §"Native kernel"), compiled at run time by
// NVRTC (Plstm.Interop.Cuda.NvrtcCompiler). The compiler options define
//   REAL   float or double
//   GX, GY the grid sides (cells n = x·GY + y, x-major, as everywhere in Ops/TwoD)
//   BLOCK  threads per block of the forward kernel
//   BLOCK_BWD  threads per block of the backward kernel (BLOCK when absent)
//   TILE_X, TILE_Y  optionally, source tiles of TILE_X lines × TILE_Y columns per warp (below; both or neither),
//                   TILE_BWD 0 for the forward only
// and may override the measured defaults below (PAIRS, SMEM_GATES, SMEM_PAIRS, SMEM_GATES_BWD, PF, FPF, SEG, PARK, SHARED_LU, BWD_MIN_BLOCKS; variants for
// measurements are compiled from a copy of this file with #defines prepended, PLSTM_FUSED_GATE_SOURCE).
// Layout: gates [N, O, 8, GX·GY], gate index 0 S0r, 1 S0d, 2 T0rl, 3 T0du, 4 T0dl, 5 T0ru, 6 M0l, 7 M0u (absent turns
// are zeros); orientation o reverses x when o & 1 and y when o & 2 (Plstm2DFused.FlipAxes). The output
// gate [N, cells (target), cells (source)] is scale times the sum over the O orientations, without D0 (the scale folded
// into the marks: the backward's d𝒢 is the incoming gradient times scale).
//
// One thread per (batch entry, source cell m); blockIdx.x = batch entry, blockIdx.y · BLOCK + threadIdx.x = m (the
// backward may also spread the orientations over blockIdx.z). Every
// thread walks all cells in the orientation's scan order in lockstep with its warp (so the writes of one step are one
// row of 𝒢: coalesced), carrying the weights of its source on the r-edges of the previous line (wr[y]) and on the
// d-edge of the previous cell (wd):
//   L = w^r(left), U = w^d(up)
//   𝒢[n, m] += M0l L + M0u U,   w^r(n) = T0rl L + T0ru U + S0r [n = m],   w^d(n) = T0dl L + T0du U + S0d [n = m]
// The backward runs the same walk again keeping L and U of every cell (in segments of SEG lines, below), then the adjoint
// walk in reverse order:
//   ā^r(n) = adjoint of w^r(n) (set by the right neighbour), ā^d(n) = adjoint of w^d(n) (set by the lower neighbour)
//   dM0l += d𝒢 L, dM0u += d𝒢 U, dT0rl += ā^r L, dT0ru += ā^r U, dT0dl += ā^d L, dT0du += ā^d U, dS0r[m] = ā^r(m), dS0d[m] = ā^d(m)
//   ā^r(left) = d𝒢 M0l + ā^r T0rl + ā^d T0dl,   ā^d(up) = d𝒢 M0u + ā^r T0ru + ā^d T0du
// The sums over sources are reduced within each warp by shuffles (warp_sum8: eight sums in nine shuffles), then added
// into the gate gradients by one native L2 reduction (red.global.add.f32) per gate, cell and warp.
// Lines of the scan before the first line holding one of a warp's sources carry no weight of any of them (flow is
// monotone), so each warp starts its walks at that line (first_line): about half the work, exactly the same sums. tests/Plstm.Tests/Ops/FusedGateKernelMirror.cs mirrors these
// loops in C# (checked against autograd on the CPU); `plstm selfcheck` compares the kernel with the row-scan form on
// the GPU.

#define CELLS (GX * GY)
#ifndef BLOCK_BWD
#define BLOCK_BWD BLOCK
#endif

// The adjoint walk reads a line in chunks of PF cells: the chunk's incoming gradients and stored L, U are loaded first,
// then its cells are walked, so the chain waits on one batch of loads per chunk instead of one load per cell; larger
// chunks hold more registers (fewer warps in flight). Which side wins depends on the line length in a way that was
// measured, not derived, hence the uneven rule. Measured on an H200, gate fwd + bwd (bench/results/gpu-h200-kernel-
// prefetch-2026-12-01.md, then with the sums as L2 reductions bench/results/gpu-h200-prefetch-lines-2026-12-01.md;
// PF 4 / 8): 24² 2.85 / 2.95 ms, 32² 8.87 / 8.34, 48² 17.7 / 17.1, 64² 55.6 / 61.1 (PF 6 beyond 16 cells: 3.07, 8.51,
// 18.0, 55.4).
#ifndef PF
#define PF (GY <= 16 ? 8 : GY <= 24 ? 4 : GY <= 48 ? 8 : 4)
#endif

// The forward without PAIRS (below) reads a line's earlier sums in chunks of FPF cells before walking them: a whole line of up to 32 cells
// (one batch of loads per line), longer lines in chunks of 32, so that a line's sums and its weights wr[GY] do not both
// sit in registers. Measured at 64², B·H 96 (bench/results/gpu-h200-kernel-64-2026-12-01.md): whole line 17.1 ms,
// chunks of 32 11.8, 16 17.2, 8 15.6.
#ifndef FPF
#define FPF (GY <= 32 ? GY : 32)
#endif

// The backward keeps the weights arriving at each cell (L, U) for its adjoint walk only for one segment of SEG scan
// lines at a time: a first walk keeps the r-edge weights at every segment's first line, then each segment, last first,
// is walked again from them and walked back. Local memory per thread: 2 · SEG · GY + ⌈lines / SEG⌉ · GY values
// instead of 2 · cells (32 KiB in float32 at 64²: the driver reserves local memory for every thread the GPU can hold),
// for one more walk without stores. SEG ≥ GX is one segment: the walk stored whole. Measured on an H200 (bench/results/
// gpu-h200-kernel-segments-2026-12-01.md; operator fwd+bwd, whole / SEG 1 / 2 / 4 / 8): 14² 1.59 / 1.88 / 1.69 / 1.74 /
// 1.85 ms (the extra walk shows; 1.5 KiB local whole), 32² 27.1 / 26.0 / 28.0 / 28.3 / 27.9 ms with 8 / 4.1 / 2.4 / 1.9 /
// 2.4 KiB local, 64² 278 / 283 / 282 / 279 / 280 ms with 32 / 16 / 8.8 / 5.8 / 5.8 KiB (device memory −6.8 GiB with SEG 4).
// Up to 16 lines the walk was stored whole, until the backward read its gates from shared memory (SMEM_GATES_BWD, where
// the entry's gates fit: FG_ENTRY_FITS) and the extra walk became cheap: backward kernel (Nsight Compute, B·H 384,
// bench/results/gpu-h200-smem-pairs-2026-12-02.md) whole / SEG 1: 12² 223 / 210 µs, 14² 352 / 324, 16² 550 / 476.
#define FG_BYTES_float 4
#define FG_BYTES_double 8
#define FG_CAT2(a, b) a##b
#define FG_CAT(a, b) FG_CAT2(a, b)
#define FG_ENTRY_FITS (4 * 8 * CELLS * FG_CAT(FG_BYTES_, REAL) <= 48 * 1024)
#ifndef SEG
#define SEG (GX <= 16 ? (FG_ENTRY_FITS ? 1 : GX) : GX <= 32 ? 1 : 4)
#endif
#define SEGL (SEG < GX ? SEG : GX)
// PARK: the adjoint weights ar wait in local memory during each segment's second walk (not held in registers beside
// wr), and large-grid blocks (256 threads) are compiled for two per multiprocessor (at most 128 registers). Measured
// (bench/results/gpu-h200-kernel-segments-2026-12-01.md, fwd+bwd): 48² 185.1 → 148.6 ms, 64² 278.7 → 234.6 ms; with
// segments of one line (up to 32 lines) parking every line costs more than it frees (32² 26.0 → 44.1 ms), so only
// beyond 32 lines.
#ifndef PARK
#define PARK (SEGL > 1 && GX > 32)
#endif
#ifndef BWD_MIN_BLOCKS
#if PARK && BLOCK_BWD == 256
#define BWD_MIN_BLOCKS 2
#else
#define BWD_MIN_BLOCKS 1
#endif
#endif
#define NSEG ((GX + SEGL - 1) / SEGL)
// SHARED_LU: a segment's L and U live in shared memory (one column per thread: conflict-free) instead of local memory,
// where they fit the static 48 KiB (float32, short segments). Off: measured slower on an H200 (gate alone fwd + bwd,
// B·H 384, two rounds, bench/results/gpu-h200-shared-walk-2026-12-01.md): whole walk in local memory 12² 0.37–0.38 ms,
// 14² 0.53–0.62, 16² 0.63–0.65; SEG 3 in local memory 0.33–0.37, 0.54–0.56, 0.63–0.71; SEG 3 in shared memory
// 0.39–0.45, 0.62–0.67, 0.77; SEG 2 in shared memory 0.39–0.47, 0.57–0.68, 0.77–0.88 (the shared array caps the
// blocks per multiprocessor; the local walk stays mostly in L1/L2).
#ifndef SHARED_LU
#define SHARED_LU 0
#endif
#if SHARED_LU && 2 * SEGL * GY * BLOCK_BWD * FG_CAT(FG_BYTES_, REAL) > 48 * 1024
#undef SHARED_LU
#define SHARED_LU 0
#endif
// WALK2_LEAN (measurement switch, thirty-sixth session; not yet measured): with segments of one line, the second walk
// recomputes only the chain from above (U) and the adjoint reads L from the saved line weights (half the second walk's
// products, no stores of L). Only without PARK and SHARED_LU.
#ifndef WALK2_LEAN
#define WALK2_LEAN 0
#endif
#if WALK2_LEAN && (SEGL != 1 || PARK || SHARED_LU)
#undef WALK2_LEAN
#define WALK2_LEAN 0
#endif

__device__ __forceinline__ int cell_of(int o, int xi, int yi)
{
    const int x = (o & 1) ? GX - 1 - xi : xi;
    const int y = (o & 2) ? GY - 1 - yi : yi;
    return x * GY + y;
}

// One cell of the forward walk: from the weights arriving from the left (L) and from above (U), the weights leaving on
// the cell's r-edge (wr) and d-edge (wd), the source's own S0r/S0d entering at n = m.
__device__ __forceinline__ void advance(const REAL* __restrict__ g, int n, int m, REAL L, REAL U, REAL& wr, REAL& wd)
{
    const REAL src = n == m ? (REAL)1 : (REAL)0;
    wr = g[2 * CELLS + n] * L + g[5 * CELLS + n] * U + src * g[n];
    wd = g[4 * CELLS + n] * L + g[3 * CELLS + n] * U + src * g[CELLS + n];
}

// The cell's entry of 𝒢 for this source: scale · (M0l L + M0u U), from the weights arriving from the left (L) and from
// above (U).
__device__ __forceinline__ REAL marked(const REAL* __restrict__ g, int n, REAL L, REAL U, REAL scale)
{
    return scale * (g[6 * CELLS + n] * L + g[7 * CELLS + n] * U);
}

// The first scan line (xi) of orientation o that holds a source of this warp: sources m0 … m0 + 31 (the valid ones) lie
// on the x-lines m0 / GY … m_last / GY; reversing x reverses the order.
__device__ __forceinline__ int first_line(int o, int m0)
{
    const int last = min(m0 + 31, CELLS - 1);
    return (o & 1) ? GX - 1 - last / GY : m0 / GY;
}

// TILE_X × TILE_Y (the host passes both, 32 in all): each warp walks the sources of a tile of TILE_X lines and TILE_Y
// columns instead of 32 consecutive cells, so that its walks start at the tile's first line and also skip the columns
// before the tile's first (in the orientation's frame): a source's weight reaches only cells at or after it on both
// axes, and a warp walks the union of its lanes' quadrants. At 32² a warp of one line walks 16.5 lines of 32 cells on
// average, a 4 × 8 tile 18 lines of 20 (the paired forward skips each twin's columns separately). Lanes of a tile past
// the grid's edge walk without a source (m = CELLS). The host launches ⌈GX / TILE_X⌉ · ⌈GY / TILE_Y⌉ warps
// (FusedGateKernel.SourceSlots). TILE_BWD = 0 keeps the backward on 32 consecutive sources per warp.
// Measured on an H200 (Nsight Compute, B·H 384; bench/results/gpu-h200-walk-tiles-targets-2026-12-02.md), 4 × 8: the
// forward at 32² 2.20 → 1.76 ms, at 14² 89 → 108 µs; the backward, although it walks 32 % fewer cell steps at 32², 7.3 →
// 11.5 ms (14²: 325 → 528 µs; 8 × 4 no better): its lanes' walks now differ in length within a warp and its reads of a
// line are no longer one row of consecutive cells. So the host passes 4 × 8 with TILE_BWD 0 above 576 cells
// (FusedGateKernel.DefaultTiling) and no tiles below.
#ifndef TILE_X
#define TILE_X 0
#endif
#ifndef TILE_Y
#define TILE_Y 0
#endif
#ifndef TILE_BWD
#define TILE_BWD 1
#endif
#define BWD_TILES (TILE_X && TILE_BWD)
#if TILE_X && TILE_X * TILE_Y != 32
#error "TILE_X * TILE_Y must be 32"
#endif
#if TILE_X
// A thread's source (CELLS: none) and its warp's tile: lines x0..x1, columns y0..y1 (original coordinates, clipped to
// the grid; x0 ≥ GX: the warp has no source).
struct SourceTile { int m, x0, x1, y0, y1; };

__device__ __forceinline__ SourceTile source_tile(int t)
{
    SourceTile s;
    const int warp = t >> 5, lane = t & 31, tiles_y = (GY + TILE_Y - 1) / TILE_Y;
    s.x0 = warp / tiles_y * TILE_X;
    s.y0 = warp % tiles_y * TILE_Y;
    s.x1 = min(s.x0 + TILE_X, GX) - 1;
    s.y1 = min(s.y0 + TILE_Y, GY) - 1;
    const int x = s.x0 + lane / TILE_Y, y = s.y0 + lane % TILE_Y;
    s.m = x < GX && y < GY ? x * GY + y : CELLS;
    return s;
}

// The first scan line (xi) and the first position on a line (yi) of orientation o that hold one of the tile's sources.
__device__ __forceinline__ int tile_first_line(int o, const SourceTile& s) { return (o & 1) ? GX - 1 - s.x1 : s.x0; }
__device__ __forceinline__ int tile_first_column(int o, const SourceTile& s) { return (o & 2) ? GY - 1 - s.y1 : s.y0; }
#endif

// PAIRS: the forward walks the two orientations of one x-direction (o and o | 2: the same lines in the same order, the
// cells of each line in opposite orders) together, line by line, and sums their contributions to the line's entries of
// 𝒢 in registers: 𝒢 is written once by the first pair (x forward) and read and written once by the second (x reversed),
// instead of once per orientation (4 writes and 3 reads), and the two walks are independent chains the scheduler
// interleaves. Lines of more than 32 cells keep the walk one orientation at a time (the weights of two orientations and
// the line's sums would not fit in registers); PAIRS=0 compiles that form for every grid (for measurements).
#ifndef PAIRS
#define PAIRS (GY <= 32)
#endif

// SMEM_GATES: the forward with PAIRS reads the gates from a copy of the batch entry's gates in shared memory, made once
// per block: every thread of the block reads the same gate at each step, and from global memory those reads were the
// walk's long-scoreboard waits. Where the copy fits the static 48 KiB (float32 up to 384 cells, float64 up to 192).
// Measured on an H200 (bench/results/gpu-h200-smem-gates-2026-12-01.md; B·H 384): forward kernel at 14² 129 → 91 µs;
// gate fwd + bwd 12² 0.40–0.41 → 0.32–0.33 ms, 14² 0.55–0.61 → 0.52, 16² 0.65–0.71 → 0.64. At 14² it also beats
// SMEM_PAIRS (forward 90 vs 132 µs: one copy per block instead of one per pair; gpu-h200-smem-pairs-2026-12-02.md).
#ifndef SMEM_GATES
#define SMEM_GATES 1
#endif
#if SMEM_GATES && (!PAIRS || !FG_ENTRY_FITS)
#undef SMEM_GATES
#define SMEM_GATES 0
#endif

// SMEM_PAIRS: the paired forward walk reads the transitions and marks (slots 2-7) of the pair it walks from a copy in
// shared memory made per pair, the sources (slots 0, 1) from global memory only at the source's own cell — 12 · cells
// values, so the copy fits the static 48 KiB up to 1,024 cells in float32 (SMEM_GATES, the whole entry's gates, only
// up to 384). Replaces SMEM_GATES where on; by default on exactly where SMEM_GATES is off (so where it does not fit).
// Measured on an H200 (bench/results/gpu-h200-smem-pairs-2026-12-02.md; B·H 384, Nsight Compute): forward kernel at
// 24² 710 → 663 µs, 32² 2,251 → 2,208 µs; at 14² slower than SMEM_GATES (132 vs 90 µs).
#ifndef SMEM_PAIRS
#if SMEM_GATES
#define SMEM_PAIRS 0
#else
#define SMEM_PAIRS 1
#endif
#endif
#if SMEM_PAIRS && (!PAIRS || 12 * CELLS * FG_CAT(FG_BYTES_, REAL) > 48 * 1024)
#undef SMEM_PAIRS
#define SMEM_PAIRS 0
#endif
#if SMEM_PAIRS
#undef SMEM_GATES
#define SMEM_GATES 0
#endif

// One cell of the forward walk (advance) and its entry of 𝒢 (marked) with the transitions and marks of the orientation
// in t (slot j at t[(j − 2) · CELLS]) and its sources in src (global memory, read only at the source's own cell).
__device__ __forceinline__ void advance_staged(const REAL* t, const REAL* __restrict__ src, int n, int m, REAL L, REAL U,
                                               REAL& wr, REAL& wd)
{
    wr = t[n] * L + t[3 * CELLS + n] * U;                  // T0rl L + T0ru U
    wd = t[2 * CELLS + n] * L + t[CELLS + n] * U;          // T0dl L + T0du U
    if (n == m)
    {
        wr += src[n];                                      // S0r
        wd += src[CELLS + n];                              // S0d
    }
}

__device__ __forceinline__ REAL marked_staged(const REAL* t, int n, REAL L, REAL U, REAL scale)
{
    return scale * (t[4 * CELLS + n] * L + t[5 * CELLS + n] * U);
}

// SMEM_GATES_BWD: the backward's walks read the orientation's gates from a copy in shared memory, as the forward's do
// (SMEM_GATES). By default on up to the grids where the forward's whole-entry copy fits (float32 384 cells, float64
// 192): measured on an H200 (bench/results/gpu-h200-smem-pairs-2026-12-02.md; B·H 384, Nsight Compute) the backward
// kernel at 14² 410 → 352 µs (−14 %); at 24² no change, and at 32² (where the copy would still fit
// the 48 KiB) the gate fwd + bwd lost 5 % (8.19 → 8.59 ms): the per-orientation copy no longer pays for itself.
#ifndef SMEM_GATES_BWD
#if FG_ENTRY_FITS
#define SMEM_GATES_BWD 1
#else
#define SMEM_GATES_BWD 0
#endif
#endif
#if SMEM_GATES_BWD && (SHARED_LU || 8 * CELLS * FG_CAT(FG_BYTES_, REAL) > 48 * 1024)
#undef SMEM_GATES_BWD
#define SMEM_GATES_BWD 0
#endif

// FWD_MIN_BLOCKS > 1 caps the forward's registers for that many blocks per multiprocessor (for measurements; none by
// default).
#ifndef FWD_MIN_BLOCKS
#define FWD_MIN_BLOCKS 1
#endif

// out may hold anything on entry: every entry of the thread's column is written. With PAIRS the x-forward pair writes the
// lines from the warp's first source line on and the x-reversed pair the lines before it, adding on the source lines
// (below); one orientation at a time, the first writes the whole column (zeros on the lines before its warp's first
// line) and later ones add to it. A line's earlier sums are read before the line is walked, so the walk's chain never
// waits on a global load.
#if FWD_MIN_BLOCKS > 1
extern "C" __global__ void __launch_bounds__(BLOCK, FWD_MIN_BLOCKS)
#else
extern "C" __global__ void __launch_bounds__(BLOCK)
#endif
plstm_fused_gate_forward(const REAL* __restrict__ gates, REAL* __restrict__ out, int orientations, REAL scale)
{
    const int b = blockIdx.x;
#if TILE_X
    const SourceTile tile = source_tile(blockIdx.y * BLOCK + threadIdx.x);
    const int m = tile.m;
#define FORWARD_FIRST_LINE(o) tile_first_line(o, tile)
#else
    const int m = blockIdx.y * BLOCK + threadIdx.x;
#define FORWARD_FIRST_LINE(o) first_line(o, m0)
#endif
#if SMEM_GATES
    // The batch entry's gates of all orientations staged in shared memory (SMEM_GATES), before any thread leaves.
    __shared__ REAL staged[4 * 8 * CELLS];
    {
        const REAL* source = gates + (size_t)b * orientations * 8 * CELLS;
        for (int i = threadIdx.x; i < orientations * 8 * CELLS; i += BLOCK) staged[i] = source[i];
        __syncthreads();
    }
#define FORWARD_GATES(o) (staged + (o) * 8 * CELLS)
#else
#define FORWARD_GATES(o) (gates + ((size_t)b * orientations + (o)) * 8 * CELLS)
#endif
#if SMEM_PAIRS
    // Every thread takes part in each pair's copy, so none leaves early: threads past the last source skip the walks.
    const bool valid = m < CELLS;
    __shared__ REAL pair_gates[12 * CELLS];                // slots 2-7 of orientation d, then of its twin d | 2
#else
    if (m >= CELLS) return;
    const bool valid = true;
#endif
#if !TILE_X
    const int m0 = blockIdx.y * BLOCK + (threadIdx.x & ~31);
#endif
    REAL* column = out + (size_t)b * CELLS * CELLS + (valid ? m : 0);
#if PAIRS
    for (int d = 0; d < 2 && d < orientations; ++d)
    {
        // Orientation d walks each line with y ascending, its twin d | 2 (when present) with y descending.
        const bool twin = (d | 2) < orientations;
#if SMEM_PAIRS
        __syncthreads();                                   // the previous pair's copy is read
        for (int i = threadIdx.x; i < 12 * CELLS; i += BLOCK)
        {
            const int o = i < 6 * CELLS ? d : (d | 2), r = i < 6 * CELLS ? i : i - 6 * CELLS;
            pair_gates[i] = o < orientations ? gates[((size_t)b * orientations + o) * 8 * CELLS + 2 * CELLS + r] : (REAL)0;
        }
        __syncthreads();
        if (!valid) continue;
        const REAL* ga = pair_gates;
        const REAL* gb = pair_gates + 6 * CELLS;
        const REAL* sa = FORWARD_GATES(d);
        const REAL* sb = FORWARD_GATES(d | 2);
#define PAIR_MARKED(g, n, L, U) marked_staged(g, n, L, U, scale)
#define PAIR_ADVANCE(g, s, n, L, U, wr, wd) advance_staged(g, s, n, m, L, U, wr, wd)
#else
        const REAL* ga = FORWARD_GATES(d);
        const REAL* gb = FORWARD_GATES(d | 2);
#define PAIR_MARKED(g, n, L, U) marked(g, n, L, U, scale)
#define PAIR_ADVANCE(g, s, n, L, U, wr, wd) advance(g, n, m, L, U, wr, wd)
#endif
        const int start = FORWARD_FIRST_LINE(d);
        // The two pairs' lines overlap only on the warp's own source lines (first_line … last_line): the x-forward pair
        // (d = 0) walks from the first of them up, the x-reversed one (d = 1) from the last down. So d = 0 writes its
        // lines, and d = 1 writes the lines before the first source line without reading them (d = 0 left them alone)
        // and reads and adds only on the source lines: 𝒢 is written about once, not once whole and again half. Only
        // without an x-reversed pair (one orientation) does d = 0 zero the lines before its first.
        const int source_first = FORWARD_FIRST_LINE(0);   // the warp's first source line (orientation 0: x forward)
        if (d == 0 && orientations < 2)
            for (int xi = 0; xi < start; ++xi)
#pragma unroll
                for (int yi = 0; yi < GY; ++yi) column[(size_t)cell_of(0, xi, yi) * CELLS] = (REAL)0;
        REAL wa[GY], wb[GY];
#pragma unroll
        for (int i = 0; i < GY; ++i) { wa[i] = 0; wb[i] = 0; }
        for (int xi = start; xi < GX; ++xi)
        {
            const int line = (d ? GX - 1 - xi : xi) * GY;   // the line's first cell
            REAL sum[GY];                                  // by y: the line's entries of 𝒢 in this thread's column
            const bool add = d != 0 && line >= source_first * GY;   // the x-forward pair wrote this line too
#pragma unroll
            for (int y = 0; y < GY; ++y) sum[y] = add ? column[(size_t)(line + y) * CELLS] : (REAL)0;
            REAL da = 0, db = 0;
#pragma unroll
            for (int yi = 0; yi < GY; ++yi)
            {
#if TILE_X
                if (yi >= tile.y0)                         // orientation d walks y ascending: from the tile's first column
#endif
                {
                    const int n = line + yi;
                    const REAL L = wa[yi], U = da;
                    sum[yi] += PAIR_MARKED(ga, n, L, U);
                    PAIR_ADVANCE(ga, sa, n, L, U, wa[yi], da);
                }
#if TILE_X
                if (twin && yi >= GY - 1 - tile.y1)        // its twin y descending: from the tile's last column
#else
                if (twin)
#endif
                {
                    const int y = GY - 1 - yi;
                    const int n = line + y;
                    const REAL L = wb[yi], U = db;
                    sum[y] += PAIR_MARKED(gb, n, L, U);
                    PAIR_ADVANCE(gb, sb, n, L, U, wb[yi], db);
                }
            }
#pragma unroll
            for (int y = 0; y < GY; ++y) column[(size_t)(line + y) * CELLS] = sum[y];
        }
    }
#else
    for (int o = 0; o < orientations; ++o)
    {
        const REAL* g = gates + ((size_t)b * orientations + o) * 8 * CELLS;
        const int start = FORWARD_FIRST_LINE(o);
        if (o == 0)
            for (int xi = 0; xi < start; ++xi)
#pragma unroll
                for (int yi = 0; yi < GY; ++yi) column[(size_t)cell_of(0, xi, yi) * CELLS] = (REAL)0;
        REAL wr[GY];
#pragma unroll
        for (int i = 0; i < GY; ++i) wr[i] = 0;
        for (int xi = start; xi < GX; ++xi)
        {
            REAL wd = 0;
#pragma unroll
            for (int c = 0; c < GY; c += FPF)
            {
                REAL before[FPF];
#pragma unroll
                for (int j = 0; j < FPF; ++j)
                    if (c + j < GY) before[j] = o == 0 ? (REAL)0 : column[(size_t)cell_of(o, xi, c + j) * CELLS];
#pragma unroll
                for (int j = 0; j < FPF; ++j)
                {
                    const int yi = c + j;
                    if (yi >= GY) break;
                    const int n = cell_of(o, xi, yi);
                    const REAL L = wr[yi], U = wd;
                    column[(size_t)n * CELLS] = before[j] + marked(g, n, L, U, scale);
                    advance(g, n, m, L, U, wr[yi], wd);
                }
            }
        }
    }
#endif
}

#undef FORWARD_FIRST_LINE

// Sums eight values over the 32 lanes of a warp in nine shuffles (instead of 8 × 5): at each of the first three levels a
// lane keeps half of its values and trades the other half with its partner, so the number of values halves while they
// are summed; the last two levels are plain butterflies. Afterwards every lane holds the total of value
// (lane >> 2) & 7.
__device__ __forceinline__ REAL warp_sum8(REAL v0, REAL v1, REAL v2, REAL v3, REAL v4, REAL v5, REAL v6, REAL v7, int lane)
{
    const unsigned all = 0xffffffffu;
    bool hi = lane & 16;
    REAL a0 = (hi ? v4 : v0) + __shfl_xor_sync(all, hi ? v0 : v4, 16);
    REAL a1 = (hi ? v5 : v1) + __shfl_xor_sync(all, hi ? v1 : v5, 16);
    REAL a2 = (hi ? v6 : v2) + __shfl_xor_sync(all, hi ? v2 : v6, 16);
    REAL a3 = (hi ? v7 : v3) + __shfl_xor_sync(all, hi ? v3 : v7, 16);
    hi = lane & 8;
    REAL b0 = (hi ? a2 : a0) + __shfl_xor_sync(all, hi ? a0 : a2, 8);
    REAL b1 = (hi ? a3 : a1) + __shfl_xor_sync(all, hi ? a1 : a3, 8);
    hi = lane & 4;
    REAL c = (hi ? b1 : b0) + __shfl_xor_sync(all, hi ? b0 : b1, 4);
    c += __shfl_xor_sync(all, c, 2);
    c += __shfl_xor_sync(all, c, 1);
    return c;
}

// dgates must be zero on entry (gate slots 2..7 are accumulated atomically; 0, 1 are written by their source's thread).
// blockIdx.z · per_block … + per_block − 1 are the orientations of this block: the backward does three walks per source
// and orientation, so it can spread the orientations over blocks (more warps in flight; the forward loops over them to
// add into 𝒢 without atomics).
// Keeping only L and recomputing U line by line (half the local memory traffic) measured 12 % slower at 32² (register
// pressure), so both are kept. Two sources per lane (a warp walking 64 consecutive sources, the six products of a cell
// summed over the lane's two before one warp reduction, the cell's gates read once for both) measured on an H200
// (Nsight Compute, B·H 384; bench/results/gpu-h200-fused-attention-backward-2026-12-02.md §4): 14² 325 → 353 µs (122
// registers and 1.8 KiB local per thread), 24² 2.46 → 2.83 ms, 32² 7.29 → 7.04 ms — a loss where the vision step's grids
// are and 3.5 % at 32², so not kept.
// The warps' sums go straight to global memory: each a native L2 reduction (REDG.ADD.F32, fire and forget). They used to
// be gathered per block in shared memory first, but sm_90 has no shared float atomic add: atomicAdd there compiles to a
// compare-and-swap loop (ATOMS.CAST.SPIN), which the block's warps — walking the same cells at the same time — made
// retry (Nsight Compute at 32²: 162 M CAS and 420 M branch instructions of 3.8 G). Measured on an H200 (gate fwd + bwd,
// bench/results/gpu-h200-walk-global-sums-2026-12-01.md): 24² 4.09 → 2.85 ms, 32² 12.49 → 8.91, 48² 87.8 → 70.8, 64²
// (B·H 96) 70.7 → 58.0; 14² unchanged. It also frees the 6 · cells values of shared memory per block.
// Measured at 14²–32² and not kept (H200, Nsight Compute; bench/results/gpu-h200-walk-traffic-2026-12-02.md):
// the kernel is bound by latency with few warps in flight, not by memory traffic — L and U in shared memory cut its L2
// traffic at 32² from 34 to 22.5 GB and took 7.35 → 7.79 ms; L and U in registers (168 of them) 9.39 ms; more blocks per
// multiprocessor (80 or 64 registers) 8.31 / 9.96 ms; blocks relabelled so that the four orientations of a source block
// share d𝒢's reads in L2 8.09 ms. A [cells, 8] layout of the gate gradients (a warp's six reductions of a cell in one
// sector) gained 3–5 % (7.33 → 7.12 ms), less than the transposition it would need for the gate activation's backward.
// (An explicit minimum of one block is not the same as none: NVRTC then takes up to 255 registers, measured 32² 26.0 →
// 36.3 ms.)
// Why the line walk is written out in walk 1 and walk 2 and the restore under #if PARK: a tidier source — one inlined
// device function for the line walk (keeping L and U through pointers), one restore loop with `if (PARK && …)`, no
// zero fill of ar when parking — compiled to a different large-grid kernel (64²: 6,288 instead of 6,160 B local per
// thread, 247.9 against 231.6 ms fwd + bwd; 48² 151.4 against 147.3 ms; 14²–32² identical), measured on one H200 in
// bench/gpu/call-kernel-cleanup.sh (eighteenth session). Keep the form below unless a variant measures as fast.
#if BWD_MIN_BLOCKS > 1
extern "C" __global__ void __launch_bounds__(BLOCK_BWD, BWD_MIN_BLOCKS)
#else
extern "C" __global__ void __launch_bounds__(BLOCK_BWD)
#endif
plstm_fused_gate_backward(const REAL* __restrict__ gates, const REAL* __restrict__ dout, REAL* __restrict__ dgates,
                          int orientations, int per_block, REAL scale)
{
    const int b = blockIdx.x;
#if BWD_TILES
    const SourceTile tile = source_tile(blockIdx.y * BLOCK_BWD + threadIdx.x);
    const int m = tile.m;
#else
    const int m = blockIdx.y * BLOCK_BWD + threadIdx.x;
#endif
    const bool valid = m < CELLS;     // lanes past the last source still take part in the shuffles, with zeros
    const int lane = threadIdx.x & 31;
    const int slot = (lane >> 2) & 7;   // which of warp_sum8's totals this lane holds
#if !BWD_TILES
    const int m0 = blockIdx.y * BLOCK_BWD + (threadIdx.x & ~31);
#endif
    const REAL* dcolumn = dout + (size_t)b * CELLS * CELLS + (valid ? m : 0);
#if SMEM_GATES_BWD
    __shared__ REAL staged[8 * CELLS];
#endif
    for (int o = blockIdx.z * per_block; o < (blockIdx.z + 1) * per_block && o < orientations; ++o)
    {
#if SMEM_GATES_BWD
        // The orientation's gates staged in shared memory (SMEM_GATES_BWD) by every thread of the block (the walks below
        // skip warps without sources, the copy does not).
        __syncthreads();                                   // the previous orientation's gates are read
        {
            const REAL* source = gates + ((size_t)b * orientations + o) * 8 * CELLS;
            for (int i = threadIdx.x; i < 8 * CELLS; i += BLOCK_BWD) staged[i] = source[i];
        }
        __syncthreads();
        const REAL* g = staged;
#else
        const REAL* g = gates + ((size_t)b * orientations + o) * 8 * CELLS;
#endif
        REAL* dg = dgates + ((size_t)b * orientations + o) * 8 * CELLS;

#if BWD_TILES
        if (tile.x0 < GX)             // warps without any source have nothing to walk
        {
            const int start = tile_first_line(o, tile);
            // Positions before the tile's first column carry no weight of its sources: skipped by every walk below.
            const int col0 = tile_first_column(o, tile);
#define BWD_SKIP(yi) if ((yi) < col0) continue
#define BWD_BEFORE(yi) ((yi) < col0)
#else
        if (m0 < CELLS)               // warps without any source have nothing to walk
        {
            const int start = first_line(o, m0);
#define BWD_SKIP(yi)
#define BWD_BEFORE(yi) ((yi) < 0)
#endif
            const int segments = (GX - start + SEGL - 1) / SEGL;
            // Walk 1: up to the last segment's first line, keeping the r-edge weights wr at every later segment's first
            // line in slot s (segment 0 starts from zeros; wd is zero at every line's start).
            REAL saved[NSEG * GY];
            REAL wr[GY];
#pragma unroll
            for (int i = 0; i < GY; ++i) wr[i] = 0;
            for (int xi = start; xi < start + (segments - 1) * SEGL; ++xi)
            {
                REAL wd = 0;
#pragma unroll
                for (int yi = 0; yi < GY; ++yi)
                {
                    BWD_SKIP(yi);
                    const int n = cell_of(o, xi, yi);
                    const REAL L = wr[yi], U = wd;
                    advance(g, n, m, L, U, wr[yi], wd);
                }
                if ((xi + 1 - start) % SEGL == 0)
                {
                    const int s = (xi + 1 - start) / SEGL;
#pragma unroll
                    for (int i = 0; i < GY; ++i) saved[s * GY + i] = wr[i];
                }
            }

            REAL ar[GY];
#pragma unroll
            for (int i = 0; i < GY; ++i) ar[i] = 0;
#if SHARED_LU
            __shared__ REAL lu_shared[2 * SEGL * GY * BLOCK_BWD];
#define LS(i) lu_shared[(i) * BLOCK_BWD + threadIdx.x]
#define US(i) lu_shared[(SEGL * GY + (i)) * BLOCK_BWD + threadIdx.x]
#else
#if WALK2_LEAN
            REAL Us[SEGL * GY];                 // per scan step of the segment: the weight arriving from above (L: saved)
#else
            REAL Ls[SEGL * GY], Us[SEGL * GY];  // per scan step of the segment: the weights arriving from the left and from above
#endif
#define LS(i) Ls[i]
#define US(i) Us[i]
#endif
            for (int s = segments - 1; s >= 0; --s)
            {
                const int x0 = start + s * SEGL, x1 = min(x0 + SEGL, GX);
                // Walk 2: the segment again from its saved weights, keeping L and U of every cell.
#if WALK2_LEAN
                // A segment of one line: its weights from the left (L) are the saved line weights themselves, so only
                // the chain from above (U) is walked again, and the adjoint reads L from the saved slot.
                {
                    REAL wd = 0;
#pragma unroll
                    for (int yi = 0; yi < GY; ++yi)
                    {
                        BWD_SKIP(yi);
                        const int n = cell_of(o, x0, yi);
                        const REAL L = s == 0 ? (REAL)0 : saved[s * GY + yi], U = wd;
                        US(yi) = U;
                        wd = g[4 * CELLS + n] * L + g[3 * CELLS + n] * U + (n == m ? g[CELLS + n] : (REAL)0);
                    }
                }
#elif PARK
                // The adjoint weights ar of the later segments wait in the slot just read, so that the walk does not
                // hold them in registers beside wr (fewer registers: more warps in flight).
                const bool park = s < segments - 1;
#pragma unroll
                for (int i = 0; i < GY; ++i)
                {
                    wr[i] = s == 0 ? (REAL)0 : saved[s * GY + i];
                    if (park) saved[s * GY + i] = ar[i];
                }
#else
#pragma unroll
                for (int i = 0; i < GY; ++i) wr[i] = s == 0 ? (REAL)0 : saved[s * GY + i];
#endif
#if !WALK2_LEAN
                for (int xi = x0; xi < x1; ++xi)
                {
                    REAL wd = 0;
#pragma unroll
                    for (int yi = 0; yi < GY; ++yi)
                    {
                        BWD_SKIP(yi);
                        const int n = cell_of(o, xi, yi);
                        const REAL L = wr[yi], U = wd;
                        LS((xi - x0) * GY + yi) = L;
                        US((xi - x0) * GY + yi) = U;
                        advance(g, n, m, L, U, wr[yi], wd);
                    }
                }
#endif

#if PARK
#pragma unroll
                for (int i = 0; i < GY; ++i) ar[i] = park ? saved[s * GY + i] : (REAL)0;
#endif
                // The adjoint walk over the segment, in reverse scan order.
                for (int xi = x1 - 1; xi >= x0; --xi)
                {
                    REAL ad = 0;
#pragma unroll
                    for (int c = GY - 1; c >= 0; c -= PF)
                    {
#if BWD_TILES
                        if (c < col0) break;
#endif
                        REAL dl[PF];
                        REAL Ll[PF], Ul[PF];
#pragma unroll
                        for (int j = 0; j < PF; ++j)
                        {
                            const int yi = c - j;
                            if (BWD_BEFORE(yi)) break;
                            dl[j] = valid ? scale * dcolumn[(size_t)cell_of(o, xi, yi) * CELLS] : (REAL)0;
#if WALK2_LEAN
                            Ll[j] = s == 0 ? (REAL)0 : saved[s * GY + yi];
#else
                            Ll[j] = LS((xi - x0) * GY + yi);
#endif
                            Ul[j] = US((xi - x0) * GY + yi);
                        }
#pragma unroll
                        for (int j = 0; j < PF; ++j)
                        {
                            const int yi = c - j;
                            if (BWD_BEFORE(yi)) break;
                            const int n = cell_of(o, xi, yi);
                            const REAL L = Ll[j], U = Ul[j];
                            const REAL d = dl[j];
                            const REAL a_r = ar[yi], a_d = ad;
                            const REAL total = warp_sum8(a_r * L, a_d * U, a_d * L, a_r * U, d * L, d * U, (REAL)0, (REAL)0, lane);
                            if ((lane & 3) == 0 && slot < 6) atomicAdd(&dg[(2 + slot) * CELLS + n], total);
                            if (n == m)
                            {
                                dg[n] = a_r;
                                dg[CELLS + n] = a_d;
                            }
                            ar[yi] = d * g[6 * CELLS + n] + a_r * g[2 * CELLS + n] + a_d * g[4 * CELLS + n];
                            ad = d * g[7 * CELLS + n] + a_r * g[5 * CELLS + n] + a_d * g[3 * CELLS + n];
                        }
                    }
                }
            }
        }
    }
}
#undef BWD_SKIP
#undef BWD_BEFORE
