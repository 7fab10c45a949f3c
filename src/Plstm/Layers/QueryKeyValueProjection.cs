using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>
/// Per-head affine map D → H·DK (query, key or value; models §2.1), reference <c>QueryLayer/KeyLayer/ValueLayer</c>.
/// Input <c>[…, D]</c>, output <c>[…, H, DK, J]</c> (head-major: output channel h·DK + i).
/// Parameters (reference names): <c>weight [max(1, H/S), DK/max(1, S/H), J, S, D/S]</c> (last axis = input channel
/// within a sub-head group), <c>bias [H, DK, J]</c> (optional). With S = 1 (vision configs) the weight is
/// <c>[H, DK, J, 1, D]</c>: <c>out[h, i, j] = Σ_c weight[h, i, j, 0, c]·x_c + bias[h, i, j]</c>.
/// Init: weight SmallInit (normal, std √(2/(5·fan)), fan = size of the last axis = D/S, as the torch reference), bias 0.
/// </summary>
public sealed class QueryKeyValueProjection : nn.Module<Tensor, Tensor>
{
    // Field names are the reference state_dict names (TorchSharp registers fields under their names). Not readonly:
    // Module.to(dtype/device) replaces parameters through these fields.
    private Parameter weight;
    private Parameter? bias;

    private readonly int _inputDim;
    private readonly int _numHeads;
    private readonly int _headDim;
    private readonly int _j;
    private readonly int _subHeads;

    /// <summary>Creates the projection with reference-initialised parameters (float32, CPU).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="inputDim">Input channels D.</param>
    /// <param name="numHeads">Heads H.</param>
    /// <param name="headDim">Output size per head (DK or DV).</param>
    /// <param name="j">State-tracking size J of this projection (JQ, JK or JV; 1 in every vision model).</param>
    /// <param name="subHeads">Sub-heads S (1 = dense).</param>
    /// <param name="withBias">Whether a bias is added.</param>
    /// <exception cref="ArgumentException">Inconsistent sizes.</exception>
    public QueryKeyValueProjection(string name, int inputDim, int numHeads, int headDim, int j = 1, int subHeads = 1,
        bool withBias = true) : base(name)
    {
        if (inputDim <= 0) throw new ArgumentException($"must be positive, got {inputDim}", nameof(inputDim));
        if (numHeads <= 0) throw new ArgumentException($"must be positive, got {numHeads}", nameof(numHeads));
        if (headDim <= 0) throw new ArgumentException($"must be positive, got {headDim}", nameof(headDim));
        if (j <= 0) throw new ArgumentException($"must be positive, got {j}", nameof(j));
        if (CheckSubHeads(inputDim, numHeads, headDim, subHeads) is { } problem)
            throw new ArgumentException(problem, nameof(subHeads));
        _inputDim = inputDim;
        _numHeads = numHeads;
        _headDim = headDim;
        _j = j;
        _subHeads = subHeads;

        long outer = Math.Max(1, numHeads / subHeads);
        long inner = headDim / Math.Max(1, subHeads / numHeads);
        long group = inputDim / subHeads;
        weight = new Parameter(empty(new long[] { outer, inner, j, subHeads, group }));
        bias = withBias ? new Parameter(empty(new long[] { numHeads, headDim, j })) : null;
        ResetParameters();
        RegisterComponents();
    }

    /// <summary>The weight <c>[max(1, H/S), DK/max(1, S/H), J, S, D/S]</c>.</summary>
    public Parameter Weight => weight;

    /// <summary>The bias <c>[H, DK, J]</c>, or null.</summary>
    public Parameter? Bias => bias;

    /// <summary>Re-initialises: weight SmallInit (fan = D/S), bias 0.</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        nn.init.normal_(weight, 0.0, SmallInit.Std(weight.shape[^1]));
        if (bias is not null) nn.init.zeros_(bias);
    }

    /// <summary>Projects <c>[…, D]</c> to <c>[…, H, DK, J]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() < 1 || x.shape[^1] != _inputDim)
            throw new ArgumentException(
                $"{nameof(QueryKeyValueProjection)}: expected x of shape [..., {_inputDim}], got [{string.Join(", ", x.shape)}].", nameof(x));
        using var scope = NewDisposeScope();
        var lead = x.shape[..^1];
        var grouped = x.reshape([.. lead, _subHeads, _inputDim / _subHeads]);          // [..., S, D/S]
        var w = weight.to_type(x.dtype);
        var outT = einsum("hkjsc,...sc->...hskj", w, grouped)                          // [..., H', S, DK', J]
            .reshape([.. lead, _numHeads, _headDim, _j]);                              // [..., H, DK, J]
        if (bias is not null) outT = outT + bias.to_type(x.dtype);
        return outT.MoveToOuterDisposeScope();
    }

    /// <summary>The map as a dense matrix <c>[H·DK·J, D]</c>, rows in output order (h, i, j) (zero outside a row's
    /// sub-head group), for fusing it with other projections of the same input.</summary>
    internal Tensor DenseWeight()
    {
        // Output row (h', s, k', j) reads group s: the einsum's order "…hskj".
        // One sub-head (every vision preset): the size-1 group axis moves freely, so the weight is the rows as they are
        // (sizes from the config: a shape read is one more native call).
        if (_subHeads == 1) return weight.reshape((long)_numHeads * _headDim * _j, _inputDim); // [H·DK·J, D]
        var shape = weight.shape;
        var grouped = weight.permute(0, 3, 1, 2, 4)
            .reshape(shape[0], _subHeads, shape[1] * _j, _inputDim / _subHeads);             // [H', S, DK'·J, D/S]
        return SubHeadAffine.Dense(grouped, weight);
    }

    /// <summary>The bias flattened to <c>[H·DK·J]</c> (zeros without bias), matching <see cref="DenseWeight"/>.</summary>
    internal Tensor DenseBias() =>
        bias?.reshape(-1) ?? zeros((long)_numHeads * _headDim * _j, dtype: weight.dtype, device: weight.device);

    /// <summary>Null when the sub-head count S fits D, H and the head size (reference shape rules), else why not.</summary>
    public static string? CheckSubHeads(int inputDim, int numHeads, int headDim, int subHeads)
    {
        if (subHeads <= 0) return $"sub-heads must be positive, got {subHeads}";
        if (inputDim % subHeads != 0) return $"sub-heads {subHeads} must divide the input dim {inputDim}";
        if (subHeads <= numHeads && numHeads % subHeads != 0)
            return $"sub-heads {subHeads} must divide the head count {numHeads}";
        if (subHeads > numHeads && (subHeads % numHeads != 0 || headDim % (subHeads / numHeads) != 0))
            return $"sub-heads {subHeads} must be a multiple of the head count {numHeads} whose ratio divides the head size {headDim}";
        return null;
    }
}
