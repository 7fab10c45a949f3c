namespace Plstm.Ops.TwoD;

/// <summary>How <see cref="MaskedAttentionKernel"/> multiplies its float32 operands on the tensor cores.</summary>
public enum MaskedAttentionPrecision
{
    /// <summary>"3xTF32": each operand split into a TF32 part and its float32 remainder, three products (≈ 2⁻²¹ relative
    /// per product) — float32 arithmetic, what PyTorch's fused attention does for float32. The default.</summary>
    Float32,

    /// <summary>One TF32 product per pair of operands (≈ 2⁻¹¹ relative per operand), float32 accumulation — what float32
    /// matmuls do with <c>torch.backends.cuda.matmul.allow_tf32</c>. Exact for operands that came from bfloat16, whose 8
    /// significant bits fit TF32's 11: the 2D layer's half-precision path takes it.</summary>
    Tf32,
}
