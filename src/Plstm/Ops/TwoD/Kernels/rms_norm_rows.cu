// The blocks' RMS norm with its per-channel scale (Blocks/RmsNorm.cs, models §6.1) over the rows of a contiguous
// [rows, WIDTH] float32 tensor, compiled at run time by NVRTC with WIDTH defined (the normalised axis):
//   y = x · r · γ,   r = (Σ_c x_c² / WIDTH + eps)^−½
// and back, with x̂ = x · r and g = dy · γ:
//   dx = r · (g − x̂ · Σ_c g_c x̂_c / WIDTH),   dγ = Σ_rows dy · x̂.
// As tensor operations the norm was about six passes over [rows, WIDTH] forward and a dozen backward (squares, means,
// broadcast products and their gradients, the scale's column sums), ≈ 0.2 ms per norm on a 224-px batch of 128 on an
// H200, 25 norms per vision-model step; here one pass each way (bench/results/gpu-h200-flat-linear-2026-12-02.md).
// One warp per row: lane l holds columns l, l + 32, … (coalesced), a row's sum reduced by shuffles.

#define CPL ((WIDTH + 31) / 32)     // columns per lane

__device__ __forceinline__ float warp_sum(float value)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffffu, value, offset);
    return value;
}

// y and r (inv[row]) from x and γ. Grid ⌈rows · 32 / block⌉ threads in blocks of whole warps.
extern "C" __global__ void plstm_rms_norm_rows_forward(const float* __restrict__ x, const float* __restrict__ scale,
    float* __restrict__ y, float* __restrict__ inv, long long rows, float eps)
{
    const long long row = (blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float* in = x + row * WIDTH;
    float v[CPL];
    float sum = 0.f;
#pragma unroll
    for (int k = 0; k < CPL; ++k)
    {
        const int c = lane + 32 * k;
        v[k] = c < WIDTH ? in[c] : 0.f;
        sum += v[k] * v[k];
    }
    const float r = rsqrtf(warp_sum(sum) / WIDTH + eps);
    if (lane == 0) inv[row] = r;
    float* out = y + row * WIDTH;
#pragma unroll
    for (int k = 0; k < CPL; ++k)
    {
        const int c = lane + 32 * k;
        if (c < WIDTH) out[c] = v[k] * r * scale[c];
    }
}

// dx, and per block the sums over its rows of dy · x̂ (partial[blockIdx.x · WIDTH + c]; the host adds the blocks'
// rows: a fixed order, so dγ is the same in every run). Block: WARPS warps, rows blockIdx.x · WARPS + warp, then every
// gridDim.x · WARPS-th row after it. Static shared memory: WARPS · WIDTH floats.
#define WARPS 8
extern "C" __global__ void __launch_bounds__(WARPS * 32) plstm_rms_norm_rows_backward(const float* __restrict__ x,
    const float* __restrict__ scale, const float* __restrict__ inv, const float* __restrict__ dy, float* __restrict__ dx,
    float* __restrict__ partial, long long rows)
{
    __shared__ float sums[WARPS * WIDTH];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float gamma[CPL], acc[CPL];
#pragma unroll
    for (int k = 0; k < CPL; ++k)
    {
        const int c = lane + 32 * k;
        gamma[k] = c < WIDTH ? scale[c] : 0.f;
        acc[k] = 0.f;
    }
    for (long long row = blockIdx.x * (long long)WARPS + warp; row < rows; row += (long long)gridDim.x * WARPS)
    {
        const float r = inv[row];
        const float* xin = x + row * WIDTH;
        const float* gin = dy + row * WIDTH;
        float xh[CPL], g[CPL];
        float dot = 0.f;
#pragma unroll
        for (int k = 0; k < CPL; ++k)
        {
            const int c = lane + 32 * k;
            const float d = c < WIDTH ? gin[c] : 0.f;
            xh[k] = c < WIDTH ? xin[c] * r : 0.f;
            g[k] = d * gamma[k];
            acc[k] += d * xh[k];
            dot += g[k] * xh[k];
        }
        const float mean = warp_sum(dot) / WIDTH;
        float* out = dx + row * WIDTH;
#pragma unroll
        for (int k = 0; k < CPL; ++k)
        {
            const int c = lane + 32 * k;
            if (c < WIDTH) out[c] = r * (g[k] - xh[k] * mean);
        }
    }
#pragma unroll
    for (int k = 0; k < CPL; ++k)
    {
        const int c = lane + 32 * k;
        if (c < WIDTH) sums[warp * WIDTH + c] = acc[k];
    }
    __syncthreads();
    for (int c = threadIdx.x; c < WIDTH; c += WARPS * 32)
    {
        float total = 0.f;
#pragma unroll
        for (int w = 0; w < WARPS; ++w) total += sums[w * WIDTH + c];
        partial[(long long)blockIdx.x * WIDTH + c] = total;
    }
}
