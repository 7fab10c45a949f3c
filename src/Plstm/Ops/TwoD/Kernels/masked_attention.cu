// Masked linear attention Y = (Q Kᵀ ⊙ G) V and its gradients, tile by tile, for the 2D operator's kernel form
// (README §"Masked attention kernel"). G [N, T, T] is the walked gate (scale folded in), contiguous; Q, K [N, T, DK] and
// V, dY [N, T, DV] and the outputs are float32 rows placed by a `RowLayout` each (below): contiguous, or the 2D layer's own
// layout, where q, k, v are column blocks of its projection output [B, T, C] and y is [B, T, H, DV], so that neither
// side needs a permuted copy. Nothing T²-sized is written except the gate's gradient dG = (dY Vᵀ) ⊙ S.
//
// Arithmetic: float32 products on tensor cores as "3xTF32" (as PyTorch's fused attention does for float32 on these
// devices): each operand x = big + small, big = x rounded to TF32, small = x − big; a·b ≈ big_a·big_b + big_a·small_b +
// small_a·big_b (the dropped small·small term and the tensor core's truncation of small are ≈ 2⁻²¹ relative),
// accumulated in float32 by mma.m16n8k8.
//
// TF32_PASSES 1 (the host's MaskedAttentionPrecision.Tf32) drops the two small products: one TF32 product with float32
// accumulation, ≈ 2⁻¹¹ relative per operand — what float32 matmuls do with TF32 allowed, and exact for operands that
// came from bfloat16 (8 significant bits fit TF32's 11), which is why the layer's half-precision path takes it.
//
// Layout: one warp owns 16 rows (queries in the forward and the dQ kernel, keys in the dK/dV kernel); a block of WARPS
// warps keeps its own rows in shared memory (in registers the compiler hoisted their splits out of the tile loop and
// spilled) and shares tiles of the other side. Each warp forms the products of a whole tile at once — one accumulator
// per 8 columns, the three products of 3xTF32 issued in phases over them, so several independent mma chains are in
// flight — and loads the tile's gate values before its products. A product's accumulator (16 × 8: the thread holds
// rows g, g + 8 and columns 2t, 2t + 1, g = lane / 4, t = lane % 4) feeds the next product as its A operand directly:
// the reduction index of an 8-wide slice is relabelled (column 2t as slot t, 2t + 1 as slot t + 4) and the B operand
// is read with the same relabelling, so no shuffle is needed. Rows of the shared tiles are DK + 4 / DV + 4 floats
// apart, which makes both access patterns (4g + t and 8t + g modulo 32) free of bank conflicts for every width that is
// a multiple of 8. Whole tiles run an unguarded copy of the tile body; only the last, partial tile tests its slices.
//
// Measured on an H200 (bench/results/gpu-h200-masked-attention-2026-12-01.md): the registers capped for three blocks
// per multiprocessor beat one and four; storing the B tiles pre-split (8 bytes an element) lost to splitting on use
// (fewer blocks fit); tiles 64 / 32 as fast as 32 / 32 and faster than 64 / 16.
//
// Defines: DK, DV (multiples of 8, at most 64); TF32_PASSES (3 or 1, above); FWD_TILE, BWD_TILE (multiples of 8) and
// MIN_BLOCKS for measurements.
// Dynamic shared memory per block (floats): forward (ROWS + FWD_TILE) · LDK + FWD_TILE · LDV; each backward kernel
// (ROWS + BWD_TILE) · (LDK + LDV).

#ifndef TF32_PASSES
#define TF32_PASSES 3    // 3xTF32 (float32 products); 1: TF32 alone
#endif
#if TF32_PASSES != 3 && TF32_PASSES != 1
#error "TF32_PASSES must be 3 or 1"
#endif
#define WARPS 4
#define ROWS (16 * WARPS)
#ifndef MIN_BLOCKS
#define MIN_BLOCKS 3     // blocks per multiprocessor the register allocation must allow (measured: 3 beats 1 and 4)
#endif
#ifndef FWD_TILE
#define FWD_TILE 64      // keys per shared tile in the forward
#endif
#ifndef BWD_TILE
#define BWD_TILE 32      // keys (dQ kernel) or queries (dK/dV kernel) per shared tile in the backward
#endif
#define FWD_SLICES (FWD_TILE / 8)
#define BWD_SLICES (BWD_TILE / 8)
#define MAXS (KS > VS ? KS : VS)
#define LDK (DK + 4)
#define LDV (DV + 4)
#define KS (DK / 8)
#define VS (DV / 8)

// x = big + small: big is x rounded to TF32 (10 mantissa bits; two integer operations, where cvt.rna.tf32.f32 costs
// more and the split runs for every operand element a warp reads), small = x − big exactly, passed on whole (the tensor
// core reads its top 19 bits: a truncation error ≤ 2⁻²¹ |x|).
__device__ __forceinline__ void split(float x, unsigned& big, unsigned& small)
{
    big = (__float_as_uint(x) + 0x1000u) & 0xffffe000u;
    small = __float_as_uint(x - __uint_as_float(big));
}

__device__ __forceinline__ void mma_tf32(float* c, const unsigned* a, const unsigned* b)
{
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// An accumulator tile (thread: (g, 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1)) as the A operand of the next product with
// the reduction slots relabelled (slot t = column 2t, slot t + 4 = column 2t + 1).
__device__ __forceinline__ void accumulator_as_a(const float* c, unsigned* big, unsigned* small)
{
    split(c[0], big[0], small[0]);
    split(c[2], big[1], small[1]);
    split(c[1], big[2], small[2]);
    split(c[3], big[3], small[3]);
}

// Where batch entry n's T rows of an operand lie: entry n = (n / heads, n % heads) starts batch · (n / heads) +
// head · (n % heads) floats from the operand's base, and its rows are `row` floats apart. A contiguous [N, T, W]
// operand is heads 1, batch T·W, row W. Strides and the base are multiples of 4 floats (the float4 loads; the caller
// checks). Passed by value; the host mirrors the layout (MaskedAttentionKernel.RowLayout).
struct RowLayout
{
    long long batch, head;
    int row, heads;
};

__device__ __forceinline__ size_t entry(const RowLayout& at, size_t n)
{
    return (size_t)(n / at.heads) * at.batch + (size_t)(n % at.heads) * at.head;
}

// Rows [row0, row0 + rows) of a [T, W] matrix whose rows are ld floats apart into shared memory with row stride W + 4,
// zeros past T.
template <int W>
__device__ __forceinline__ void load_tile(float* tile, const float* __restrict__ source, int ld, int row0, int rows, int T)
{
    constexpr int QUADS = W / 4;
    for (int i = threadIdx.x; i < rows * QUADS; i += WARPS * 32)
    {
        int r = i / QUADS, c = (i % QUADS) * 4;
        float4 value = make_float4(0.f, 0.f, 0.f, 0.f);
        if (row0 + r < T) value = *reinterpret_cast<const float4*>(source + (size_t)(row0 + r) * ld + c);
        *reinterpret_cast<float4*>(tile + r * (W + 4) + c) = value;
    }
}

// The B operand's two values of this thread, p[0] and p[second], split.
__device__ __forceinline__ void tile_b(const float* p, int second, unsigned* big, unsigned* small)
{
    split(p[0], big[0], small[0]);
    split(p[second], big[1], small[1]);
}

// The A operand (raw float32) of 16 rows of a shared tile (row stride LD) for reduction slice s, split.
template <int LD>
__device__ __forceinline__ void shared_a(const float* rows, int s, int g, int t, unsigned* big, unsigned* small)
{
    const float* p = rows + g * LD + 8 * s + t;
    split(p[0], big[0], small[0]);
    split(p[8 * LD], big[1], small[1]);
    split(p[4], big[2], small[2]);
    split(p[8 * LD + 4], big[3], small[3]);
}

// Stores an accumulator [16, W] (rows r0, r1) into a [T, W] matrix whose rows are ld floats apart, rows past T left
// out.
template <int W>
__device__ __forceinline__ void store_rows(float* __restrict__ target, int ld, const float (*c)[4], int r0, int r1, int t,
                                           int T)
{
#pragma unroll
    for (int s = 0; s < W / 8; ++s)
    {
        int col = 8 * s + 2 * t;
        if (r0 < T) { target[(size_t)r0 * ld + col] = c[s][0]; target[(size_t)r0 * ld + col + 1] = c[s][1]; }
        if (r1 < T) { target[(size_t)r1 * ld + col] = c[s][2]; target[(size_t)r1 * ld + col + 1] = c[s][3]; }
    }
}

// The gate values of this thread's accumulator entries of a tile: rows r0, r1 and columns c0 + 8 sj + 2t (+1), zero
// outside T × T. transposed: the accumulator's rows are the gate's columns (the dK/dV kernel).
template <int SLICES, bool TRANSPOSED>
__device__ __forceinline__ void load_gate(float (*gv)[4], const float* __restrict__ gn, int r0, int r1, int c0, int t,
    int slices, int T)
{
#pragma unroll
    for (int sj = 0; sj < SLICES; ++sj)
    {
        const int ca = c0 + 8 * sj + 2 * t, cb = ca + 1;
        const bool use = sj < slices;
        if (TRANSPOSED)
        {
            gv[sj][0] = use && r0 < T && ca < T ? gn[(size_t)ca * T + r0] : 0.f;
            gv[sj][1] = use && r0 < T && cb < T ? gn[(size_t)cb * T + r0] : 0.f;
            gv[sj][2] = use && r1 < T && ca < T ? gn[(size_t)ca * T + r1] : 0.f;
            gv[sj][3] = use && r1 < T && cb < T ? gn[(size_t)cb * T + r1] : 0.f;
        }
        else
        {
            gv[sj][0] = use && r0 < T && ca < T ? gn[(size_t)r0 * T + ca] : 0.f;
            gv[sj][1] = use && r0 < T && cb < T ? gn[(size_t)r0 * T + cb] : 0.f;
            gv[sj][2] = use && r1 < T && ca < T ? gn[(size_t)r1 * T + ca] : 0.f;
            gv[sj][3] = use && r1 < T && cb < T ? gn[(size_t)r1 * T + cb] : 0.f;
        }
    }
}

// acc[sj] += A · Bᵀ-slices: A the warp's 16 shared rows (stride LDA) at reduction slice s, B rows 8 sj + g of a shared
// tile (stride LDB), i.e. the product of the warp's rows with the tile's rows, for the tile's first `slices` slices.
template <int LDA, int LDB, int SLICES>
__device__ __forceinline__ void rows_times_tile(float (*acc)[4], const float* own, const float* tile, int s, int g,
    int t, int slices)
{
    unsigned ab[4], asm_[4], bb[SLICES][2], bsm[SLICES][2];
    shared_a<LDA>(own, s, g, t, ab, asm_);
#pragma unroll
    for (int sj = 0; sj < SLICES; ++sj)
        if (sj < slices) tile_b(tile + (8 * sj + g) * LDB + 8 * s + t, 4, bb[sj], bsm[sj]);
    // The three products of 3xTF32 in phases over the independent accumulators (each accumulator's three are dependent).
    if (TF32_PASSES == 3)
    {
#pragma unroll
        for (int sj = 0; sj < SLICES; ++sj)
            if (sj < slices) mma_tf32(acc[sj], asm_, bb[sj]);
#pragma unroll
        for (int sj = 0; sj < SLICES; ++sj)
            if (sj < slices) mma_tf32(acc[sj], ab, bsm[sj]);
    }
#pragma unroll
    for (int sj = 0; sj < SLICES; ++sj)
        if (sj < slices) mma_tf32(acc[sj], ab, bb[sj]);
}

// acc[s] += P · tile for every output slice s, P the accumulator of tile slice sj (columns relabelled), tile rows
// 8 sj + 2t and 8 sj + 2t + 1 (stride LD) in the same relabelling.
template <int LD, int OUT>
__device__ __forceinline__ void product_times_tile(float (*acc)[4], const float* p, const float* tile, int sj, int g,
    int t)
{
    unsigned ab[4], asm_[4], bb[OUT][2], bsm[OUT][2];
    accumulator_as_a(p, ab, asm_);
#pragma unroll
    for (int s = 0; s < OUT; ++s) tile_b(tile + (8 * sj + 2 * t) * LD + 8 * s + g, LD, bb[s], bsm[s]);
    if (TF32_PASSES == 3)
    {
#pragma unroll
        for (int s = 0; s < OUT; ++s) mma_tf32(acc[s], asm_, bb[s]);
#pragma unroll
        for (int s = 0; s < OUT; ++s) mma_tf32(acc[s], ab, bsm[s]);
    }
#pragma unroll
    for (int s = 0; s < OUT; ++s) mma_tf32(acc[s], ab, bb[s]);
}

template <int SLICES>
__device__ __forceinline__ void clear(float (*acc)[4])
{
#pragma unroll
    for (int s = 0; s < SLICES; ++s) acc[s][0] = acc[s][1] = acc[s][2] = acc[s][3] = 0.f;
}

// This thread's place: its warp's 16 rows start at row0 (of the block's ROWS), and of an accumulator tile it holds
// rows r0 = row0 + g and r1 = r0 + 8 and columns 2t, 2t + 1 (g = lane / 4, t = lane % 4).
struct Place
{
    int warp, g, t, row0, r0, r1;
};

__device__ __forceinline__ Place place()
{
    Place at;
    at.warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    at.g = lane >> 2;
    at.t = lane & 3;
    at.row0 = blockIdx.x * ROWS + at.warp * 16;
    at.r0 = at.row0 + at.g;
    at.r1 = at.r0 + 8;
    return at;
}

// The loop over the other side's tiles of TILE rows shared by the four kernels: the block loads a tile into shared
// memory (load(j0)), then each warp with rows runs body(j0, slices) — on a whole tile with slices the constant
// TILE / 8, which takes the body's unguarded copy (each guarded product costs a branch and a warp sync), on the last,
// partial tile with the slices it has.
// `after` runs on every thread once the tile's body is done (the fused backward's dQ step; a no-op for the others).
template <int TILE, typename Load, typename Body, typename After>
__device__ __forceinline__ void over_tiles(int T, bool active, Load load, Body body, After after)
{
    for (int j0 = 0; j0 < T; j0 += TILE)
    {
        __syncthreads();                                    // the previous tiles are read
        load(j0);
        __syncthreads();
        if (active)
        {
            const int partial = (min(TILE, T - j0) + 7) / 8;
            if (partial == TILE / 8) body(j0, TILE / 8);
            else body(j0, partial);
        }
        after(j0);
    }
}

template <int TILE, typename Load, typename Body>
__device__ __forceinline__ void over_tiles(int T, bool active, Load load, Body body)
{
    over_tiles<TILE>(T, active, load, body, [](const int) {});
}

// The two backward kernels' products on a tile, interleaved slice by slice (each waits less on shared memory between
// its tensor-core steps): a = A Xᵀ over DK columns (A the warp's rows in shared memory, X the tile's rows) and b = B Yᵀ
// over DV columns, both cleared first. The query kernel forms S = Q Kᵀ and dA = dY Vᵀ, the key kernel the same
// transposed (Sᵀ = K Qᵀ, dAᵀ = V dYᵀ).
template <int SLICES>
__device__ __forceinline__ void two_products(float (*a)[4], const float* wa, const float* xa, float (*b)[4],
                                             const float* wb, const float* xb, int g, int t, int slices)
{
    clear<SLICES>(a);
    clear<SLICES>(b);
#pragma unroll
    for (int s = 0; s < MAXS; ++s)
    {
        if (s < KS) rows_times_tile<LDK, LDK, SLICES>(a, wa, xa, s, g, t, slices);
        if (s < VS) rows_times_tile<LDV, LDV, SLICES>(b, wb, xb, s, g, t, slices);
    }
}

// The forward kernels' common part: the accumulator of Y = (Q Kᵀ ⊙ G) V for the warp's 16 rows of entry n.
__device__ __forceinline__ void attend(const float* __restrict__ q, const float* __restrict__ k,
    const float* __restrict__ v, const float* __restrict__ gate, int T, const RowLayout& lq, const RowLayout& lk,
    const RowLayout& lv, const Place& at, size_t n, float* shared, float (*acc)[4])
{
    float* own_q = shared;
    float* ks = own_q + ROWS * LDK;
    float* vs = ks + FWD_TILE * LDK;
    const int g = at.g, t = at.t, r0 = at.r0, r1 = at.r1;
    const float* kn = k + entry(lk, n);
    const float* vn = v + entry(lv, n);
    const float* gn = gate + n * T * T;
    load_tile<DK>(own_q, q + entry(lq, n), lq.row, blockIdx.x * ROWS, ROWS, T);
    const float* wq = own_q + at.warp * 16 * LDK;
    clear<VS>(acc);

    over_tiles<FWD_TILE>(T, at.row0 < T,
        [&](const int j0)
        {
            load_tile<DK>(ks, kn, lk.row, j0, FWD_TILE, T);
            load_tile<DV>(vs, vn, lv.row, j0, FWD_TILE, T);
        },
        [&](const int j0, const int slices)
        {
            float gv[FWD_SLICES][4], sc[FWD_SLICES][4];
            load_gate<FWD_SLICES, false>(gv, gn, r0, r1, j0, t, slices, T);
            clear<FWD_SLICES>(sc);
#pragma unroll
            for (int s = 0; s < KS; ++s)                        // S = Q Kᵀ on the tile's keys
                rows_times_tile<LDK, LDK, FWD_SLICES>(sc, wq, ks, s, g, t, slices);
#pragma unroll
            for (int sj = 0; sj < FWD_SLICES; ++sj)             // Y += (S ⊙ G) V
                if (sj < slices)
                {
#pragma unroll
                    for (int e = 0; e < 4; ++e) sc[sj][e] *= gv[sj][e];
                    product_times_tile<LDV, VS>(acc, sc[sj], vs, sj, g, t);
                }
        });
}

// Y = (Q Kᵀ ⊙ G) V. Grid (⌈T / ROWS⌉, N), block WARPS · 32.
extern "C" __global__ void __launch_bounds__(WARPS * 32, MIN_BLOCKS) plstm_masked_attention_forward(
    const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ gate, float* __restrict__ y, int T, RowLayout lq, RowLayout lk, RowLayout lv, RowLayout ly)
{
    extern __shared__ __align__(16) float shared[];
    const Place at = place();
    const size_t n = blockIdx.y;
    float acc[VS][4];
    attend(q, k, v, gate, T, lq, lk, lv, at, n, shared, acc);
    store_rows<DV>(y + entry(ly, n), ly.row, acc, at.r0, at.r1, at.t, T);
}

// The forward with the 2D layer's per-head RMS norm on its output rows (a kernel of its own after this one before, which
// read y back from memory): y as above, ŷ = y · r where y's layout puts it in yhat, and r = (Σ_c y_c² / DV + eps)^−½ at inv[(b · T + row)
// · H + h] for entry n = (b, h), H = ly.heads (the rows of [B, T, H, DV] in order, as rms_norm.cu keeps them). A row's
// sum of squares lies in the four lanes that hold it (t = 0…3): two shuffles. Same grid and block.
extern "C" __global__ void __launch_bounds__(WARPS * 32, MIN_BLOCKS) plstm_masked_attention_forward_normalized(
    const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ gate, float* __restrict__ y, float* __restrict__ yhat, float* __restrict__ inv, int T,
    RowLayout lq, RowLayout lk, RowLayout lv, RowLayout ly, float eps)
{
    extern __shared__ __align__(16) float shared[];
    const Place at = place();
    const size_t n = blockIdx.y;
    float acc[VS][4];
    attend(q, k, v, gate, T, lq, lk, lv, at, n, shared, acc);
    store_rows<DV>(y + entry(ly, n), ly.row, acc, at.r0, at.r1, at.t, T);
    float s0 = 0.f, s1 = 0.f;                               // rows r0 and r1: this lane's columns
#pragma unroll
    for (int s = 0; s < VS; ++s)
    {
        s0 += acc[s][0] * acc[s][0] + acc[s][1] * acc[s][1];
        s1 += acc[s][2] * acc[s][2] + acc[s][3] * acc[s][3];
    }
    s0 += __shfl_xor_sync(0xffffffffu, s0, 1);
    s1 += __shfl_xor_sync(0xffffffffu, s1, 1);
    s0 += __shfl_xor_sync(0xffffffffu, s0, 2);
    s1 += __shfl_xor_sync(0xffffffffu, s1, 2);
    const float i0 = rsqrtf(s0 / DV + eps), i1 = rsqrtf(s1 / DV + eps);
#pragma unroll
    for (int s = 0; s < VS; ++s)
    {
        acc[s][0] *= i0; acc[s][1] *= i0;
        acc[s][2] *= i1; acc[s][3] *= i1;
    }
    store_rows<DV>(yhat + entry(ly, n), ly.row, acc, at.r0, at.r1, at.t, T);
    if (at.t == 0)
    {
        const size_t heads = ly.heads, base = (n / heads) * T, h = n % heads;
        if (at.r0 < T) inv[(base + at.r0) * heads + h] = i0;
        if (at.r1 < T) inv[(base + at.r1) * heads + h] = i1;
    }
}

// dQ = ((dY Vᵀ) ⊙ G) K and dG = (dY Vᵀ) ⊙ (Q Kᵀ), one warp per 16 queries. Grid (⌈T / ROWS⌉, N).
extern "C" __global__ void __launch_bounds__(WARPS * 32, MIN_BLOCKS) plstm_masked_attention_backward_query(
    const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ gate, const float* __restrict__ dy, float* __restrict__ dq, float* __restrict__ dgate, int T,
    RowLayout lq, RowLayout lk, RowLayout lv, RowLayout ldy, RowLayout ldq)
{
    extern __shared__ __align__(16) float shared[];
    float* own_q = shared;
    float* own_dy = own_q + ROWS * LDK;
    float* ks = own_dy + ROWS * LDV;
    float* vs = ks + BWD_TILE * LDK;
    const Place at = place();
    const int g = at.g, t = at.t, r0 = at.r0, r1 = at.r1;
    const size_t n = blockIdx.y;
    const float* kn = k + entry(lk, n);
    const float* vn = v + entry(lv, n);
    const float* gn = gate + n * T * T;
    float* dgn = dgate + n * T * T;
    load_tile<DK>(own_q, q + entry(lq, n), lq.row, blockIdx.x * ROWS, ROWS, T);
    load_tile<DV>(own_dy, dy + entry(ldy, n), ldy.row, blockIdx.x * ROWS, ROWS, T);
    const float* wq = own_q + at.warp * 16 * LDK;
    const float* wdy = own_dy + at.warp * 16 * LDV;
    float acc[KS][4];
    clear<KS>(acc);

    over_tiles<BWD_TILE>(T, at.row0 < T,
        [&](const int j0)
        {
            load_tile<DK>(ks, kn, lk.row, j0, BWD_TILE, T);
            load_tile<DV>(vs, vn, lv.row, j0, BWD_TILE, T);
        },
        [&](const int j0, const int slices)
        {
            float gv[BWD_SLICES][4], sc[BWD_SLICES][4], da[BWD_SLICES][4];
            load_gate<BWD_SLICES, false>(gv, gn, r0, r1, j0, t, slices, T);
            two_products<BWD_SLICES>(sc, wq, ks, da, wdy, vs, g, t, slices);    // S = Q Kᵀ, dA = dY Vᵀ
#pragma unroll
            for (int sj = 0; sj < BWD_SLICES; ++sj)
                if (sj < slices)
                {
                    const int c0 = j0 + 8 * sj + 2 * t, c1 = c0 + 1;
                    if (r0 < T && c0 < T) dgn[(size_t)r0 * T + c0] = da[sj][0] * sc[sj][0];
                    if (r0 < T && c1 < T) dgn[(size_t)r0 * T + c1] = da[sj][1] * sc[sj][1];
                    if (r1 < T && c0 < T) dgn[(size_t)r1 * T + c0] = da[sj][2] * sc[sj][2];
                    if (r1 < T && c1 < T) dgn[(size_t)r1 * T + c1] = da[sj][3] * sc[sj][3];
#pragma unroll
                    for (int e = 0; e < 4; ++e) da[sj][e] *= gv[sj][e];     // dS = dA ⊙ G
                    product_times_tile<LDK, KS>(acc, da[sj], ks, sj, g, t);  // dQ += dS K
                }
        });
    store_rows<DK>(dq + entry(ldq, n), ldq.row, acc, r0, r1, t, T);
}

// dK = ((dY Vᵀ) ⊙ G)ᵀ Q and dV = (Q Kᵀ ⊙ G)ᵀ dY, one warp per 16 keys (products formed transposed: Sᵀ = K Qᵀ,
// dAᵀ = V dYᵀ). Grid (⌈T / ROWS⌉, N).
extern "C" __global__ void __launch_bounds__(WARPS * 32, MIN_BLOCKS) plstm_masked_attention_backward_key(
    const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ gate, const float* __restrict__ dy, float* __restrict__ dk, float* __restrict__ dv, int T,
    RowLayout lq, RowLayout lk, RowLayout lv, RowLayout ldy, RowLayout ldk, RowLayout ldv)
{
    extern __shared__ __align__(16) float shared[];
    float* own_k = shared;
    float* own_v = own_k + ROWS * LDK;
    float* qs = own_v + ROWS * LDV;
    float* dys = qs + BWD_TILE * LDK;
    const Place at = place();
    const int g = at.g, t = at.t, j0r = at.r0, j1r = at.r1;    // this thread's keys
    const size_t n = blockIdx.y;
    const float* qn = q + entry(lq, n);
    const float* dyn = dy + entry(ldy, n);
    const float* gn = gate + n * T * T;
    load_tile<DK>(own_k, k + entry(lk, n), lk.row, blockIdx.x * ROWS, ROWS, T);
    load_tile<DV>(own_v, v + entry(lv, n), lv.row, blockIdx.x * ROWS, ROWS, T);
    const float* wk = own_k + at.warp * 16 * LDK;
    const float* wv = own_v + at.warp * 16 * LDV;
    float dka[KS][4], dva[VS][4];
    clear<KS>(dka);
    clear<VS>(dva);

    over_tiles<BWD_TILE>(T, at.row0 < T,
        [&](const int i0)
        {
            load_tile<DK>(qs, qn, lq.row, i0, BWD_TILE, T);
            load_tile<DV>(dys, dyn, ldy.row, i0, BWD_TILE, T);
        },
        [&](const int i0, const int slices)
        {
            float gv[BWD_SLICES][4], st[BWD_SLICES][4], dat[BWD_SLICES][4];   // Gᵀ, Sᵀ, dAᵀ: rows keys, columns queries
            load_gate<BWD_SLICES, true>(gv, gn, j0r, j1r, i0, t, slices, T);
            two_products<BWD_SLICES>(st, wk, qs, dat, wv, dys, g, t, slices);   // Sᵀ = K Qᵀ, dAᵀ = V dYᵀ
#pragma unroll
            for (int si = 0; si < BWD_SLICES; ++si)
                if (si < slices)
                {
#pragma unroll
                    for (int e = 0; e < 4; ++e)
                    {
                        st[si][e] *= gv[si][e];                 // (S ⊙ G)ᵀ
                        dat[si][e] *= gv[si][e];                // (dA ⊙ G)ᵀ
                    }
                    product_times_tile<LDV, VS>(dva, st[si], dys, si, g, t);   // dV += (S ⊙ G)ᵀ dY
                    product_times_tile<LDK, KS>(dka, dat[si], qs, si, g, t);   // dK += (dA ⊙ G)ᵀ Q
                }
        });
    store_rows<DK>(dk + entry(ldk, n), ldk.row, dka, j0r, j1r, t, T);
    store_rows<DV>(dv + entry(ldv, n), ldv.row, dva, j0r, j1r, t, T);
}

// The backward in one kernel (the default; MaskedAttentionKernel.FusedBackward): per 64 keys as the key kernel — Sᵀ and
// dAᵀ of each tile of BWD_TILE queries formed once for dK, dV, the gate's gradient and dQ — where the two kernels above
// form S and dA twice (seven products per tile pair instead of five). dQ = dS K needs, per query tile, the sum over all
// keys: each block adds its 64 keys' share, dS of the tile (gated, keys as rows) staged in shared memory so that every
// warp reads it as the A operand of queries × keys, into dq with vector L2 reductions — dq must be zero on entry, and
// float32 dQ may differ in its last bits between runs (the order of the blocks' additions). The warps split the tile's
// dQ [BWD_TILE × DK] by 16-row query tiles (MT of them) and n-slices of 8 columns, each warp one query tile.
// Measured on an H200 (Nsight Compute, B·H 384, DK = DV 64; bench/results/gpu-h200-fused-attention-backward-2026-12-02.md):
// backward 14² 594 → 521 µs (query + key kernels → this, query tiles of 32), 490 µs with tiles of 16 (what the host
// takes up to 400 tokens; at 24² 3.03 against 2.94 ms and at 32² 9.00 against 8.87 ms they lose), 32² 9.58 → 8.87 ms.
// Less than the products' count promises (5 / 7): the tile now waits at three barriers (Nsight Compute at 14²: 168
// registers, 18 % warps active, stalls per instruction wait 1.9, long scoreboard 1.1, barrier 1.0). Measured and left:
// two staged dS buffers so that a tile's dQ runs beside the next tile's load (two barriers a tile; 14² 547, 32² 9.34
// ms), 16-byte reductions after a shuffle (525 µs, 9.00 ms), query tiles of 64 (913 µs, 13.0 ms: fewer blocks fit),
// registers for two blocks per multiprocessor (528 µs, 9.16 ms), and the Q and dY tiles double-buffered by cp.async,
// the next tile's copy in flight while the current one is worked on (two barriers a tile instead of three; 14² 499 →
// 497 µs, 32² 8.97 → 13.24 ms: the second buffer's shared memory costs a block per multiprocessor; steps 512 px 103.1
// → 113.9 ms; bench/results/gpu-h200-backward-pipeline-2026-12-02.md).
#if BWD_TILE % 16 == 0
#define LDS (BWD_TILE + 4)        // the staged dS tile: ROWS key rows, BWD_TILE query columns (+4: conflict-free reads)
#define MT (BWD_TILE / 16)        // 16-row query tiles of dQ per tile (1, 2 or 4 warps' worth)
#if WARPS % MT != 0
#error "the fused backward needs BWD_TILE / 16 to divide WARPS"
#endif
#define WPM (WARPS / MT)          // warps per query tile
#define DQW ((KS + WPM - 1) / WPM)  // n-slices of dQ per warp

// p[0] += a, p[1] += b in L2 (p 8-byte aligned): one vector reduction on sm_90 with a CUDA 12.1+ NVRTC, else two.
__device__ __forceinline__ void reduce_add2(float* p, float a, float b)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && (__CUDACC_VER_MAJOR__ > 12 || (__CUDACC_VER_MAJOR__ == 12 && __CUDACC_VER_MINOR__ >= 1))
    asm volatile("red.global.add.v2.f32 [%0], {%1, %2};" :: "l"(p), "f"(a), "f"(b) : "memory");
#else
    atomicAdd(p, a);
    atomicAdd(p + 1, b);
#endif
}

// dK, dV, dG and the keys' share of dQ. Grid (⌈T / ROWS⌉, N), block WARPS · 32; dynamic shared memory the key kernel's
// plus ROWS · LDS floats.
extern "C" __global__ void __launch_bounds__(WARPS * 32, MIN_BLOCKS) plstm_masked_attention_backward_fused(
    const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ gate, const float* __restrict__ dy, float* __restrict__ dq, float* __restrict__ dk,
    float* __restrict__ dv, float* __restrict__ dgate, int T, RowLayout lq, RowLayout lk, RowLayout lv, RowLayout ldy,
    RowLayout ldq, RowLayout ldk, RowLayout ldv)
{
    extern __shared__ __align__(16) float shared[];
    float* own_k = shared;
    float* own_v = own_k + ROWS * LDK;
    float* qs = own_v + ROWS * LDV;
    float* dys = qs + BWD_TILE * LDK;
    float* ds = dys + BWD_TILE * LDV;                       // dSᵀ of the tile: ROWS keys × BWD_TILE queries
    const Place at = place();
    const int g = at.g, t = at.t, j0r = at.r0, j1r = at.r1;    // this thread's keys
    const size_t n = blockIdx.y;
    const float* qn = q + entry(lq, n);
    const float* dyn = dy + entry(ldy, n);
    const float* gn = gate + n * T * T;
    float* dgn = dgate + n * T * T;
    float* dqn = dq + entry(ldq, n);
    load_tile<DK>(own_k, k + entry(lk, n), lk.row, blockIdx.x * ROWS, ROWS, T);
    load_tile<DV>(own_v, v + entry(lv, n), lv.row, blockIdx.x * ROWS, ROWS, T);
    // Rows of warps without keys (the last block) stay zero: those warps skip the products.
    for (int i = threadIdx.x; i < ROWS * LDS; i += WARPS * 32) ds[i] = 0.f;
    const float* wk = own_k + at.warp * 16 * LDK;
    const float* wv = own_v + at.warp * 16 * LDV;
    const bool active = at.row0 < T;
    float dka[KS][4], dva[VS][4];
    clear<KS>(dka);
    clear<VS>(dva);
    // This warp's part of each tile's dQ: query rows 16 · mt … + 15 of the tile, n-slices wsub, wsub + WPM, …
    const int mt = at.warp % MT, wsub = at.warp / MT;

    // Sᵀ, dAᵀ of the warp's keys and the tile's queries; dG; dV += (S ⊙ G)ᵀ dY, dK += (dA ⊙ G)ᵀ Q; dSᵀ staged in ds.
    auto body = [&](const int i0, const int slices)
    {
        float* dsw = ds + at.warp * 16 * LDS;
        float gv[BWD_SLICES][4], st[BWD_SLICES][4], dat[BWD_SLICES][4];
        load_gate<BWD_SLICES, true>(gv, gn, j0r, j1r, i0, t, slices, T);
        two_products<BWD_SLICES>(st, wk, qs, dat, wv, dys, g, t, slices);       // Sᵀ = K Qᵀ, dAᵀ = V dYᵀ
#pragma unroll
        for (int si = 0; si < BWD_SLICES; ++si)
        {
            float2 top = make_float2(0.f, 0.f), bottom = top;                   // dSᵀ rows g, g + 8 (zero past the tile)
            if (si < slices)
            {
                const int c0 = i0 + 8 * si + 2 * t, c1 = c0 + 1;             // queries: the gate's rows
                if (j0r < T && c0 < T) dgn[(size_t)c0 * T + j0r] = dat[si][0] * st[si][0];
                if (j0r < T && c1 < T) dgn[(size_t)c1 * T + j0r] = dat[si][1] * st[si][1];
                if (j1r < T && c0 < T) dgn[(size_t)c0 * T + j1r] = dat[si][2] * st[si][2];
                if (j1r < T && c1 < T) dgn[(size_t)c1 * T + j1r] = dat[si][3] * st[si][3];
#pragma unroll
                for (int e = 0; e < 4; ++e)
                {
                    st[si][e] *= gv[si][e];                     // (S ⊙ G)ᵀ
                    dat[si][e] *= gv[si][e];                    // (dA ⊙ G)ᵀ = dSᵀ
                }
                product_times_tile<LDV, VS>(dva, st[si], dys, si, g, t);   // dV += (S ⊙ G)ᵀ dY
                product_times_tile<LDK, KS>(dka, dat[si], qs, si, g, t);   // dK += (dA ⊙ G)ᵀ Q
                top = make_float2(dat[si][0], dat[si][1]);
                bottom = make_float2(dat[si][2], dat[si][3]);
            }
            *reinterpret_cast<float2*>(dsw + g * LDS + 8 * si + 2 * t) = top;
            *reinterpret_cast<float2*>(dsw + (g + 8) * LDS + 8 * si + 2 * t) = bottom;
        }
    };

    // dQ[qrow …, the warp's n-slices] of the tile at i0 += dS[its queries, the block's keys] K[the block's keys, :] from
    // the staged ds (the reduction over ROWS keys), added into dq.
    auto dq_tile = [&](const int i0)
    {
        const int qrow = 16 * mt;                           // the warp's first query row within the tile
        if (i0 + qrow >= T) return;
        float acc[DQW][4];
        clear<DQW>(acc);
#pragma unroll
        for (int ks = 0; ks < ROWS / 8; ++ks)
        {
            unsigned ab[4], asm_[4], bb[DQW][2], bsm[DQW][2];
            const float* a = ds + (8 * ks + t) * LDS + qrow + g;      // A = dS: rows queries, columns keys
            split(a[0], ab[0], asm_[0]);
            split(a[8], ab[1], asm_[1]);
            split(a[4 * LDS], ab[2], asm_[2]);
            split(a[4 * LDS + 8], ab[3], asm_[3]);
#pragma unroll
            for (int u = 0; u < DQW; ++u)
                if (wsub + u * WPM < KS) tile_b(own_k + (8 * ks + t) * LDK + 8 * (wsub + u * WPM) + g, 4 * LDK, bb[u], bsm[u]);
            if (TF32_PASSES == 3)
            {
#pragma unroll
                for (int u = 0; u < DQW; ++u)
                    if (wsub + u * WPM < KS) mma_tf32(acc[u], asm_, bb[u]);
#pragma unroll
                for (int u = 0; u < DQW; ++u)
                    if (wsub + u * WPM < KS) mma_tf32(acc[u], ab, bsm[u]);
            }
#pragma unroll
            for (int u = 0; u < DQW; ++u)
                if (wsub + u * WPM < KS) mma_tf32(acc[u], ab, bb[u]);
        }
        const int r0 = i0 + qrow + g, r1 = r0 + 8;
#pragma unroll
        for (int u = 0; u < DQW; ++u)
            if (wsub + u * WPM < KS)
            {
                const int col = 8 * (wsub + u * WPM) + 2 * t;
                if (r0 < T) reduce_add2(dqn + (size_t)r0 * ldq.row + col, acc[u][0], acc[u][1]);
                if (r1 < T) reduce_add2(dqn + (size_t)r1 * ldq.row + col, acc[u][2], acc[u][3]);
            }
    };

    // Per tile of queries: the warps' products (on a whole tile the unguarded copy of the body), then, with every key's
    // dS staged, the tile's dQ; over_tiles' barrier before each load also waits for the previous tile's dQ to read dS.
    over_tiles<BWD_TILE>(T, active,
        [&](const int i0)
        {
            load_tile<DK>(qs, qn, lq.row, i0, BWD_TILE, T);
            load_tile<DV>(dys, dyn, ldy.row, i0, BWD_TILE, T);
        },
        body,
        [&](const int i0)
        {
            __syncthreads();                                // dS of every key of the block is staged
            dq_tile(i0);
        });
    store_rows<DK>(dk + entry(ldk, n), ldk.row, dka, j0r, j1r, t, T);
    store_rows<DV>(dv + entry(ldv, n), ldv.row, dva, j0r, j1r, t, T);
}
#else
// A backward tile the fused kernel does not take (a measurement's PLSTM_MASKED_ATTENTION_TILES): the host runs the two
// kernels instead (MaskedAttentionKernel.FusedBackward) and never launches this; it exists so the module has every name.
extern "C" __global__ void plstm_masked_attention_backward_fused(
    const float* q, const float* k, const float* v, const float* gate, const float* dy, float* dq, float* dk, float* dv,
    float* dgate, int T, RowLayout lq, RowLayout lk, RowLayout lv, RowLayout ldy, RowLayout ldq, RowLayout ldk,
    RowLayout ldv)
{
    asm volatile("trap;");
}
#endif
