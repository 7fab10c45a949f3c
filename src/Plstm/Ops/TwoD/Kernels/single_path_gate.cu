// The D-mode gating matrix 𝒢 of the 2D operator with scalar gates in closed form (README §"Single-path kernel"),
// compiled at run time by NVRTC. The compiler options define
//   REAL        float or double
//   GX, GY      the grid sides (cells n = x·GY + y, x-major, as everywhere in Ops/TwoD)
//   TRANSPOSE   0 for chirality R (state turns from the x-chain into the y-chain: T0dl present, T0ru absent),
//               1 for chirality L (from the y-chain into the x-chain: T0ru present, T0dl absent)
// Layouts as the gate walk's (fused_gate.cu): gates [N, O, 8, cells], slots 0 S0r, 1 S0d, 2 T0rl, 3 T0du, 4 T0dl, 5 T0ru,
// 6 M0l, 7 M0u; orientation o reverses x when o & 1 and y when o & 2; the output gate [N, cells (target), cells (source)]
// is scale · Σ_o 𝒢_o without D0, and the backward's incoming gradient is that of the output.
//
// A D-mode layer has one turn only, so exactly one path joins a source to a target and 𝒢 is a product of gates, which
// needs no walk. In the frame of chirality R (p = scan line x, q = position y; chirality L is the same with the axes and
// the r/d roles swapped, TRANSPOSE) and of orientation o, for a target n = (p, q) and a source m = (p', q'):
//   q = q', p > p':  𝒢 = MA(n) · PA(q; p', p−1) · SA(m)
//   p = p', q > q':  𝒢 = MB(n) · PB(p; q', q−1) · SB(m)
//   p > p', q > q':  𝒢 = MB(n) · PB(p; q', q−1) · TT(p, q') · PA(q'; p', p−1) · SA(m)     (the turn at (p, q'))
// with the chain products PA(q; a, b) = Π_{i=a+1..b} TA(i, q) and PB(p; a, b) = Π_{j=a+1..b} TB(p, j) (empty: 1), and
// the roles (R / L): SA = S0r / S0d, SB = S0d / S0r, TA = T0rl / T0du, TB = T0du / T0rl, TT = T0dl / T0ru,
// MA = M0l / M0u, MB = M0u / M0l. Every other pair is zero. The chain products go into tables per batch entry and
// orientation (single_path_tables: for the forward already multiplied into a source side W and target sides U, U' —
// see there; for the backward PA and PB themselves); the forward then writes each entry of 𝒢 once
// (single_path_forward), and the backward reads each entry of d𝒢 a bounded number of times (single_path_turns,
// single_path_chains): O(cells²) work without a sequential walk over the grid.
//
// tests/Plstm.Tests/Ops/SinglePathGateKernelMirror.cs mirrors these loops in C# (checked against the gate walk's mirror
// on the CPU); `plstm selfcheck` compares the compiled kernels with the gate walk on the GPU.

#define CELLS (GX * GY)
#if TRANSPOSE
#define GP GY
#define GQ GX
#define SA 1
#define SB 0
#define TA 3
#define TB 2
#define TT 5
#define MA 7
#define MB 6
#else
#define GP GX
#define GQ GY
#define SA 0
#define SB 1
#define TA 2
#define TB 3
#define TT 4
#define MA 6
#define MB 7
#endif
// Scratch tables per (batch entry, orientation), each GP·GQ·max(GP, GQ) values at most:
//   PA(q; a, e), a ≤ e, at PA_AT(q, a, e)                                        (GQ · GP · GP)
//   PB(p; a, e), a ≤ e, at PB_AT(p, a, e)                                        (GP · GQ · GQ)
//   Ā at AB_AT(q', p, p'): the adjoint of the weight arriving along the first axis at the turn cell (p, q') from source
//     (p', q'), summed over the targets beyond the turn                           (GQ · GP · GP)
//   F at F_AT(p, q', q): the gradient reaching the second-axis chain at (p, q') for target (p, q), summed over the
//     sources that turn there                                                     (GP · GQ · GQ)
// The layouts put the entries of neighbouring cells of a memory line (consecutive y: q in chirality R, p in L) next to
// each other where the kernels' lanes, which hold neighbouring cells, read or write them together.
#if TRANSPOSE
#define PA_AT(q, a, e) (((e) * GQ + (q)) * GP + (a))
#else
#define PA_AT(q, a, e) (((e) * GP + (a)) * GQ + (q))
#endif
#define PB_AT(p, a, e) (((p) * GQ + (e)) * GQ + (a))
// The backward's sums, laid out for the threads that read them most: F(p, q', q) at F_AT, Ā(q', p, p') at AB_AT.
#if TRANSPOSE
#define F_AT(p, a, q) (((a) * GQ + (q)) * GP + (p))
#define AB_AT(a, p, i) (((a) * GP + (p)) * GP + (i))
#else
#define F_AT(p, a, q) (((p) * GQ + (q)) * GQ + (a))
#define AB_AT(a, p, i) (((p) * GP + (i)) * GQ + (a))
#endif
#define PA_SIZE (GQ * GP * GP)
#define PB_SIZE (GP * GQ * GQ)
#define TABLES (2 * PA_SIZE + 2 * PB_SIZE)
// Threads per (batch entry, orientation) of single_path_turns, one per entry of F and of Ā that exists: F(p, a, q) for
// lines p ≥ 1 and a < q (F_PAIRS pairs (q, a) per line), Ā(p, a, i) for i < p (AB_PAIRS pairs (p, i)) and every a.
#define F_PAIRS (GQ * (GQ - 1) / 2)
#define AB_PAIRS (GP * (GP - 1) / 2)
#define F_THREADS ((GP - 1) * F_PAIRS)
#define F_DIVISOR (F_PAIRS > 0 ? F_PAIRS : 1)
#define TURN_THREADS (F_THREADS + AB_PAIRS * GQ)
// Blocks per (batch entry, orientation) of the backward's kernels: single_path_turns (256 threads) and
// single_path_chains (128 threads, one per cell and chain).
#define TURN_BLOCKS (TURN_THREADS > 0 ? (TURN_THREADS + 255) / 256 : 1)   // one idle block for a grid without turns
// Threads per block of single_path_forward: SinglePathGateKernel defines it (the width it launches with: the cells
// rounded up to whole warps, at most 256); the same rule here for a compile without it.
#ifndef FORWARD_THREADS
#define FORWARD_THREADS ((CELLS + 31) / 32 * 32 < 256 ? (CELLS + 31) / 32 * 32 : 256)
#endif
#define CHAIN_BLOCKS ((2 * CELLS + 127) / 128)

// The cell of generic coordinates (p, q) in orientation o.
__device__ __forceinline__ int cell_at(int o, int p, int q)
{
#if TRANSPOSE
    const int xi = q, yi = p;
#else
    const int xi = p, yi = q;
#endif
    const int x = (o & 1) ? GX - 1 - xi : xi;
    const int y = (o & 2) ? GY - 1 - yi : yi;
    return x * GY + y;
}

// The generic coordinates of cell n in orientation o.
__device__ __forceinline__ void coords_of(int o, int n, int& p, int& q)
{
    const int x = n / GY, y = n - (n / GY) * GY;
    const int xi = (o & 1) ? GX - 1 - x : x;
    const int yi = (o & 2) ? GY - 1 - y : y;
#if TRANSPOSE
    p = yi; q = xi;
#else
    p = xi; q = yi;
#endif
}

// The forward's tables per (batch entry, orientation), in the slots of the backward's (scratch of the same size),
// indexed by cells and coordinates of the ORIGINAL grid where the forward's lanes index them, so that a lane's entry is
// found without mapping its source into the orientation's frame:
//   W[p][m]  = PA(q'; p', p−1) · SA(m)                       for a source m = (p', q') and a target line p > p'
//   U[n][s]  = MB(n) · PB(p; q', q−1) · TT(p, q')           for a target n = (p, q) and q' < q,   U[n][s(q)] = MA(n)
//   U'[n][s] = MB(n) · PB(p; q', q−1)                       for q' < q
// where s = s(q') is the source's coordinate along the second axis on the original grid (y in chirality R, x in L).
// An entry of 𝒢_o is then U[n][s] · W[p][m] when the cells lie on different lines of the first axis (turning at
// (p, q'), or straight along the first axis when q' = q: U = MA), and U'[n][s] · SB(m) when they share a line.
#define W_AT(p, m) ((p) * CELLS + (m))
#define U_AT(n, s) (PA_SIZE + (n) * GQ + (s))
#define UP_AT(n, s) (PA_SIZE + PB_SIZE + (n) * GQ + (s))
// The orientation bits that reverse the first axis (generic p) and the second (q).
#if TRANSPOSE
#define FA_BIT 2
#define SA_BIT 1
#else
#define FA_BIT 1
#define SA_BIT 2
#endif
// A generic second-axis coordinate a of orientation o on the original grid.
#define ORIGINAL_Q(o, a) (((o) & SA_BIT) ? GQ - 1 - (a) : (a))

// One thread per (batch entry · orientation, chain, start a) for the first-axis chains and the backward's second-axis
// chains: the chain's running products from a onwards, threads in the order of the tables' fastest axis (writes of
// neighbouring threads land next to each other). Threads t < GQ·GP take the chain along the first axis at position q,
// the next GP·GQ the chain along the second axis of line p.
// backward = 0 (forward): the tables W, U and U'; backward = 1: the chain products PA and PB themselves.
extern "C" __global__ void __launch_bounds__(128)
single_path_tables(const REAL* __restrict__ gates, REAL* __restrict__ tables, int orientations, int backward)
{
    const int bo = blockIdx.x, o = bo % orientations;
    const int t = blockIdx.y * 128 + threadIdx.x;
    const REAL* g = gates + (size_t)bo * 8 * CELLS;
    REAL* pa = tables + (size_t)bo * TABLES;
    REAL* pb = pa + PA_SIZE;
    if (t < GQ * GP)
    {
#if TRANSPOSE
        const int q = t / GP, a = t % GP;
#else
        const int a = t / GQ, q = t % GQ;
#endif
        const int m = cell_at(o, a, q);
        const REAL source = g[SA * CELLS + m];
        REAL product = 1;
        if (backward) pa[PA_AT(q, a, a)] = product;
        // Over absolute positions e (lanes with e ≤ a idle), unrolled: the gate loads do not depend on the start, so
        // they issue ahead of the chain of products instead of each waiting behind the last (Nsight Compute, both
        // calls of a forward + backward, B·H 384: 14² 81 → 73 µs, 32² 673 → 625 µs).
#pragma unroll
        for (int e = 1; e < GP; ++e)
        {
            const REAL transition = g[TA * CELLS + cell_at(o, e, q)];
            if (e <= a) continue;
            if (!backward) pa[W_AT(e, m)] = product * source;        // PA(q; a, e−1) · SA(a, q)
            product *= transition;
            if (backward) pa[PA_AT(q, a, e)] = product;
        }
    }
    else if (t < 2 * GQ * GP)
    {
        const int v = t - GQ * GP;
        const int p = v / GQ, a = v % GQ;
        REAL product = 1;
        if (backward)
        {
            pb[PB_AT(p, a, a)] = product;
#pragma unroll
            for (int e = 1; e < GQ; ++e)
            {
                const REAL transition = g[TB * CELLS + cell_at(o, p, e)];
                if (e <= a) continue;
                product *= transition;
                pb[PB_AT(p, a, e)] = product;
            }
            return;
        }
        // The source side (p, a) of line p: its column s of U and U' for each later target (p, e) of the line, and its
        // own cell's U[n][s] = MA. The loop runs over absolute positions e (lanes with e ≤ a idle), so that at each step
        // the lanes — neighbouring starts a of one line — write one row of U and of U' together: coalesced.
        const int c = cell_at(o, p, a);
        const int s = ORIGINAL_Q(o, a);
        const REAL turn = g[TT * CELLS + c];
        pa[U_AT(c, s)] = g[MA * CELLS + c];
#pragma unroll
        for (int e = 1; e < GQ; ++e)
        {
            const int n = cell_at(o, p, e);
            const REAL mark = g[MB * CELLS + n], transition = g[TB * CELLS + n];
            if (e <= a) continue;
            const REAL side = mark * product;                  // MB(p, e) · PB(p; a, e−1)
            pa[UP_AT(n, s)] = side;
            pa[U_AT(n, s)] = side * turn;
            product *= transition;
        }
    }
}

// One block per (target n, batch entry batch0 + blockIdx.y) — targets fastest, so that the blocks running together read
// one batch entry's tables from the L2 cache — its threads over the sources m (m fastest: coalesced writes): scale times the
// sum over the orientations whose quadrant holds the pair, found from the pair's coordinates (o's bit FA_BIT reverses
// the first axis, SA_BIT the second): one orientation when the cells share no line, the two of the matching direction
// when they share a line or a column, none on the diagonal. The loop is bound by its instructions (Nsight Compute: 80 %
// of the SM's issue slots at 32² in its first form), so per pair it does the least: the tables are indexed by the
// source's cell and original coordinate (no mapping into the orientation's frame), the row offsets of the target are
// per block, the sources walked without division, the offsets 32-bit from an opaque base.
// TARGETS (the host passes SinglePathGateKernel.DefaultForwardTargets, 4; 1 when absent): a block takes TARGETS
// consecutive targets, one after the other with the same threads (the loop unrolled, so a thread's loads for different
// targets are independent), over ⌈CELLS / TARGETS⌉ blocks per batch entry. At 14² a thread of a one-target block handled one source —
// a few dozen instructions and one round of loads per block — and the 75,264 blocks ran in 63 waves (Nsight Compute: 97
// µs, issue active 62 %). Measured on an H200 with 4: 14² 96 → 72 µs, 32² 1,282 → 1,029 µs
// (bench/results/gpu-h200-walk-tiles-targets-2026-12-02.md).
#ifndef TARGETS
#define TARGETS 1
#endif
extern "C" __global__ void __launch_bounds__(256)
single_path_forward(const REAL* __restrict__ gates, const REAL* __restrict__ tables, REAL* __restrict__ out,
                    int orientations, REAL scale, int batch0)
{
    const int b = batch0 + blockIdx.y;
#pragma unroll
    for (int target = 0; target < TARGETS; ++target)
    {
    const int n = blockIdx.x * TARGETS + target;
    if (n >= CELLS) break;
    const int x = n / GY, y = n - (n / GY) * GY;
#if TRANSPOSE
    const int t1 = y, t2 = x;                              // the target's coordinates along the first and second axis
#else
    const int t1 = x, t2 = y;
#endif
    const REAL* tb = tables + (size_t)b * orientations * TABLES;            // orientation o's tables at o · TABLES
    const REAL* sb = gates + ((size_t)b * orientations * 8 + SB) * CELLS;   // orientation o's SB at o · 8 · CELLS
    // Opaque to the compiler from here: left as parameter + 64-bit index, each read's address took six instructions
    // (64-bit add and shift) instead of one wide multiply-add of the pointer and a 32-bit offset.
    asm("" : "+l"(tb));
    // W_AT's row for the target's line of the first axis in either direction, U_AT's and UP_AT's row for the target
    // (their offsets written out here, hoisted out of the loop, as the kernel measured on the GPU has them).
    const unsigned row0 = (unsigned)(t1 * CELLS), row1 = (unsigned)((GP - 1 - t1) * CELLS);
    const unsigned urow = (unsigned)(n * GQ);
    REAL* entry = out + ((size_t)b * CELLS + n) * CELLS + threadIdx.x;   // row n of 𝒢, at this thread's first source
    int xm = threadIdx.x / GY, ym = threadIdx.x - (threadIdx.x / GY) * GY;  // m = xm · GY + ym, advanced without division
    // The block's width is a compile-time constant (FORWARD_THREADS, launched as such), so the loop over this thread's
    // sources unrolls and its steps are constants.
#pragma unroll
    for (int k = 0; k < (CELLS + FORWARD_THREADS - 1) / FORWARD_THREADS; ++k)
    {
        const int m = threadIdx.x + k * FORWARD_THREADS;
        if (m >= CELLS) break;
#if TRANSPOSE
        const int s1 = ym, s2 = xm;
#else
        const int s1 = xm, s2 = ym;
#endif
        REAL sum = 0;
        if (s1 != t1)                                       // different lines of the first axis: U · W
        {
            const int f = s1 > t1 ? FA_BIT : 0;             // the first-axis reversal that puts m before n
            const unsigned w = (f ? row1 : row0) + (unsigned)m, u = urow + (unsigned)(PA_SIZE + s2);
            const int o = f | (s2 > t2 ? SA_BIT : 0);
            if (o < orientations) sum = __ldg(tb + ((unsigned)(o * TABLES) + u)) * __ldg(tb + ((unsigned)(o * TABLES) + w));
            if (s2 == t2 && (o | SA_BIT) < orientations)   // one column: the other second-axis direction too
                sum += __ldg(tb + ((unsigned)((o | SA_BIT) * TABLES) + u)) * __ldg(tb + ((unsigned)((o | SA_BIT) * TABLES) + w));
        }
        else if (s2 != t2)                                  // one line: U' · SB, both first-axis directions
        {
            const int o = s2 > t2 ? SA_BIT : 0;
            const unsigned u = urow + (unsigned)(PA_SIZE + PB_SIZE + s2);
            if (o < orientations)
                sum = __ldg(tb + ((unsigned)(o * TABLES) + u)) * sb[(unsigned)(o * 8 * CELLS + m)];
            if ((o | FA_BIT) < orientations)
                sum += __ldg(tb + ((unsigned)((o | FA_BIT) * TABLES) + u)) * sb[(unsigned)((o | FA_BIT) * 8 * CELLS + m)];
        }
        entry[k * FORWARD_THREADS] = scale * sum;           // a constant offset: the loop is unrolled
        ym += FORWARD_THREADS % GY;
        xm += FORWARD_THREADS / GY;
        if (ym >= GY) { ym -= GY; ++xm; }
    }
    }                                                       // the block's targets (TARGETS)
}

// The triangle row r of a packed index k: r (r − 1) / 2 ≤ k < r (r + 1) / 2, i.e. pairs (r, c) with c < r numbered
// row by row (c = k − r (r − 1) / 2). The float estimate is corrected to the exact row.
__device__ __forceinline__ int triangle_row(int k)
{
    int r = (int)((1.0f + sqrtf(8.0f * (float)k + 1.0f)) * 0.5f);
    while (r * (r - 1) / 2 > k) --r;
    while (r * (r + 1) / 2 <= k) ++r;
    return r;
}

// One thread per (batch entry · orientation, entry of F or Ā), for the turn cells c = (p, a), p ≥ 1, a < GQ − 1, with
// d = scale · d𝒢[(p, q), (p', a)] over the pairs that turn at c:
//   F(c; q)  = Σ_{p'<p} d · PA(a; p', p−1) · SA(p', a)   (q > a; the weight arriving at c from (p', a), per target)
//   Ā(c; p') = Σ_{q>a} d · MB(p, q) · PB(p; a, q−1)       (p' < p; the target side beyond c, per source)
// Each thread sums one entry with a scalar (no per-thread arrays: registers for many warps in flight); threads t <
// F_THREADS take F, the next AB_PAIRS · GQ take Ā, in orders whose lanes read neighbouring sources where the layout
// allows. Only entries that exist get a thread (packed triangles: with a thread per (p, q, a) and per (p, i, a), the
// entries with q ≤ a or i ≥ p left half the F lanes and half the Ā warps idle); the others are neither written nor read.
extern "C" __global__ void __launch_bounds__(256)
single_path_turns(const REAL* __restrict__ gates, const REAL* __restrict__ dout, REAL* __restrict__ tables,
                  int orientations, REAL scale)
{
    // One flat grid, an entry's blocks consecutive: the blocks in flight are those of a few batch entries, all four
    // orientations of one together, so each entry's d𝒢 is read from DRAM about once for both sums and all orientations
    // (with the entries fastest, blocks of hundreds of entries ran together and d𝒢 was read once per orientation and sum).
    const int bo = blockIdx.x / TURN_BLOCKS, o = bo % orientations, b = bo / orientations;
    const int t = (blockIdx.x - bo * TURN_BLOCKS) * 256 + threadIdx.x;
    const REAL* g = gates + (size_t)bo * 8 * CELLS;
    REAL* pa = tables + (size_t)bo * TABLES;
    const REAL* pb = pa + PA_SIZE;
    REAL* ab = pa + PA_SIZE + PB_SIZE;
    REAL* f = ab + PA_SIZE;
    const REAL* d = dout + (size_t)b * CELLS * CELLS;
    if (t < F_THREADS)
    {
        // Line p ≥ 1, then the pairs (q, a < q) row by row: a warp's lanes hold neighbouring a of one or a few q.
        const int p = 1 + t / F_DIVISOR, k = t - (p - 1) * F_PAIRS;
        const int q = triangle_row(k), a = k - q * (q - 1) / 2;
        const REAL* row = d + (size_t)cell_at(o, p, q) * CELLS;
        REAL sum = 0;
#pragma unroll 4
        for (int i = 0; i < p; ++i)
        {
            const int m = cell_at(o, i, a);
            sum += scale * row[m] * pa[PA_AT(a, i, p - 1)] * g[SA * CELLS + m];
        }
        f[F_AT(p, a, q)] = sum;
    }
    else if (t < TURN_THREADS)
    {
        const int u = t - F_THREADS;
#if TRANSPOSE
        // Line p's block of p · GQ threads, i fastest (neighbouring cells of a memory line in chirality L).
        const int p = triangle_row(u / GQ);
        const int v = u - GQ * (p * (p - 1) / 2);
        const int i = v % p, a = v / p;
#else
        // The pairs (p, i < p) row by row, a fastest (neighbouring cells of a memory line in chirality R).
        const int a = u % GQ, k = u / GQ;
        const int p = triangle_row(k), i = k - p * (p - 1) / 2;
#endif
        if (a == GQ - 1) return;
        const int m = cell_at(o, i, a);
        REAL sum = 0;
#pragma unroll 4
        for (int q = a + 1; q < GQ; ++q)
        {
            const int n = cell_at(o, p, q);
            sum += scale * d[(size_t)n * CELLS + m] * g[MB * CELLS + n] * pb[PB_AT(p, a, q - 1)];
        }
        ab[AB_AT(a, p, i)] = sum;
    }
}

// One thread per (batch entry · orientation, chain, index a), threads in memory order of the cell (p, a) or (a, q). dgates must be zero on entry: the chain transitions TA and
// TB are accumulated atomically (one addition per start and cell), every other slot of the orientation's cells is
// written by exactly one thread (the absent turn's slot stays zero: it is no input of a D-mode layer).
// Threads t < CELLS: the second-axis chain of line p through cell t = (p, a), index a:
//   D(a'; q) = SB(p, a') d[(p, q), (p, a')] + TT(p, a') F[p][a'][q]            (the gradient entering at (p, a'))
//   dSB(p, a) = Σ_{q>a} d[(p, q), (p, a)] · GB(p, a, q),   dTT(p, a) = Σ_{q>a} F[p][a][q] · GB(p, a, q),
//   dMB(p, a) = Σ_{a'<a} PB(p; a', a−1) · D(a'; a),
//   and from start a the chain adjoint R(b) = MB(p, b+1) D(a; b+1) + TB(p, b+1) R(b+1) (R(GQ−1) = 0):
//   dTB(p, b) += PB(p; a, b−1) · R(b) for b > a.
// Threads CELLS ≤ t < 2·CELLS: the first-axis chain of column q through cell t − CELLS = (a, q), index a (the same
// with E for D):
//   E(p; a) = MA(p, q) d[(p, q), (a, q)] + TT(p, q) AB[q][p][a]                 (the gradient of the weight arriving at
//   (p, q) along the first axis from (a, q)), dSA(a, q) = Σ_{p>a} PA(q; a, p−1) · E(p; a),
//   dMA(a, q) = Σ_{a'<a} d[(a, q), (a', q)] · PA(q; a', a−1) · SA(a', q),
//   R(b) = SA(a, q) E(b+1; a) + TA(b+1, q) R(b+1), dTA(b, q) += PA(q; a, b−1) · R(b) for b > a.
extern "C" __global__ void __launch_bounds__(128)
single_path_chains(const REAL* __restrict__ gates, const REAL* __restrict__ dout, const REAL* __restrict__ tables,
                   REAL* __restrict__ dgates, int orientations, REAL scale)
{
    // One flat grid, an entry's blocks consecutive (as single_path_turns): the d𝒢 entries a cell's chains read (its line
    // and its column, read again by the adjoint recursion and by the other orientations of the entry) stay in L2.
    const int bo = blockIdx.x / CHAIN_BLOCKS, o = bo % orientations, b = bo / orientations;
    const int t = (blockIdx.x - bo * CHAIN_BLOCKS) * 128 + threadIdx.x;
    if (t >= 2 * GP * GQ) return;
    const REAL* g = gates + (size_t)bo * 8 * CELLS;
    REAL* dg = dgates + (size_t)bo * 8 * CELLS;
    const REAL* pa = tables + (size_t)bo * TABLES;
    const REAL* pb = pa + PA_SIZE;
    const REAL* ab = pa + PA_SIZE + PB_SIZE;
    const REAL* f = ab + PA_SIZE;
    const REAL* d = dout + (size_t)b * CELLS * CELLS;
    if (t < CELLS)
    {
        const int c = t;                                   // cells in memory order (neighbours read neighbours)
        int p, a;
        coords_of(o, c, p, a);
        REAL dsb = 0, dtt = 0, dmb = 0;
#pragma unroll 4
        for (int a2 = 0; a2 < a; ++a2)
        {
            const int m = cell_at(o, p, a2);
            REAL in = g[SB * CELLS + m] * scale * d[(size_t)c * CELLS + m];
            if (p > 0) in += g[TT * CELLS + m] * f[F_AT(p, a2, a)];
            dmb += pb[PB_AT(p, a2, a - 1)] * in;
        }
        // The sums over the targets beyond c and the chain adjoint in one downward walk over them: each d𝒢 and F entry
        // read once, and the lanes, whose walks all start at the line's end, read one row of d𝒢 per step (cells of a
        // memory line are neighbouring lanes: coalesced in chirality R).
        const REAL sb = g[SB * CELLS + c], tt = p > 0 ? g[TT * CELLS + c] : (REAL)0;
        REAL r = 0;
        for (int q = GQ - 1; q > a; --q)
        {
            const int n = cell_at(o, p, q);
            const REAL dd = scale * d[(size_t)n * CELLS + c];
            const REAL fq = p > 0 ? f[F_AT(p, a, q)] : (REAL)0;
            const REAL mb = g[MB * CELLS + n];
            const REAL gb = mb * pb[PB_AT(p, a, q - 1)];
            dsb += dd * gb;
            dtt += fq * gb;
            if (q > a + 1)
            {
                r = mb * (sb * dd + tt * fq) + g[TB * CELLS + n] * r;                  // R(q − 1)
                atomicAdd(&dg[TB * CELLS + cell_at(o, p, q - 1)], pb[PB_AT(p, a, q - 2)] * r);
            }
        }
        dg[SB * CELLS + c] = dsb;
        dg[TT * CELLS + c] = p > 0 ? dtt : (REAL)0;
        dg[MB * CELLS + c] = dmb;
    }
    else
    {
        const int c = t - CELLS;
        int a, q;
        coords_of(o, c, a, q);
        const bool turns = q < GQ - 1;                     // AB exists for turn cells before the last column
        REAL dsa = 0, dma = 0;
#pragma unroll 4
        for (int a2 = 0; a2 < a; ++a2)
        {
            const int m = cell_at(o, a2, q);
            dma += scale * d[(size_t)c * CELLS + m] * pa[PA_AT(q, a2, a - 1)] * g[SA * CELLS + m];
        }
        // As above: dSA and the chain adjoint in one downward walk over the targets beyond c.
        const REAL sa = g[SA * CELLS + c];
        REAL r = 0;
        for (int p = GP - 1; p > a; --p)
        {
            const int n = cell_at(o, p, q);
            REAL e = g[MA * CELLS + n] * scale * d[(size_t)n * CELLS + c];
            if (turns) e += g[TT * CELLS + n] * ab[AB_AT(q, p, a)];
            dsa += pa[PA_AT(q, a, p - 1)] * e;
            if (p > a + 1)
            {
                r = sa * e + g[TA * CELLS + n] * r;                                       // R(p − 1)
                atomicAdd(&dg[TA * CELLS + cell_at(o, p - 1, q)], pa[PA_AT(q, a, p - 2)] * r);
            }
        }
        dg[SA * CELLS + c] = dsa;
        dg[MA * CELLS + c] = dma;
    }
}
