// The backward of the per-row RMS normalisation of the 2D layer's in-place kernel form (ProjectedGateAttention; README
// §"Masked attention kernel", "Operands in place"), compiled at run time by NVRTC: the rows are the per-head outputs
// [B, T, H, W] of the masked attention, normalised over their W channels as Ops/Common/RmsNormalization.cs defines it,
//   ŷ = y · r,   r = (Σ_c y_c² / W + eps)^−½
// (the forward runs in the masked attention kernel's epilogue, plstm_masked_attention_forward_normalized, which saves
// y and r), and back, with ŷ recomputed from the saved y and r:
//   dy = r · (dŷ − ŷ · Σ_c dŷ_c ŷ_c / W).
// One warp per row: the lanes stride over the row's channels and the sum is reduced by shuffles. One launch instead of
// the norm's about ten tensor operations backward per layer (most of them full passes over [B, T, H, W]).

__device__ __forceinline__ float warp_sum(float value)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffffu, value, offset);
    return value;
}

// dy from dŷ, y and r. With `zero` non-null the same warp also clears row `row`'s share of the layer's q-column
// gradient, which the fused masked attention backward that runs next adds into (red.global.add): for the rows
// (b · T + t) · heads + h of [B, T, H, W] the W floats at zero[(b · T + t) · zstride + h · W] (zstride: the projection
// gradient's row length). One pass fewer per layer than a separate fill of the strided q columns (14 µs per 224-px
// layer on an H200: libtorch's fill of a narrowed view is not vectorised).
extern "C" __global__ void plstm_rms_norm_backward(const float* __restrict__ y, const float* __restrict__ inv,
    const float* __restrict__ dyhat, float* __restrict__ dy, long long rows, int width, float* __restrict__ zero,
    int heads, long long zstride)
{
    const long long row = (blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float r = inv[row];
    const float* in = y + row * width;
    const float* grad = dyhat + row * width;
    float dot = 0.f;
    for (int c = lane; c < width; c += 32) dot += grad[c] * (in[c] * r);
    const float mean = warp_sum(dot) / width;
    float* out = dy + row * width;
    for (int c = lane; c < width; c += 32) out[c] = r * (grad[c] - in[c] * r * mean);
    if (zero != nullptr)
    {
        float* q = zero + (row / heads) * zstride + (row % heads) * (long long)width;
        for (int c = lane; c < width; c += 32) q[c] = 0.f;
    }
}
