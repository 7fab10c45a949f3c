using Plstm.Ops.TwoD;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Cli.Bench;

/// <summary>
/// Forward + backward of the kernel form's gate alone, <c>G = scale · Σ_o 𝒢_o</c> of stacked gates
/// <c>[B·H, 4, 8, X, Y]</c> (the part before the masked attention): <c>walk</c> — the gate walk
/// (<see cref="FusedGateKernel"/>) with every transition present, as a P-mode layer's gates; <c>walk-d</c> — the same
/// walk with a D-mode layer's gates (chirality R: T0ru zero); <c>single-path</c> — the closed form of those D-mode gates
/// (<see cref="SinglePathGateKernel"/>). CUDA only. Gates uniform in (0, 1) (transitions: the straight and turning shares
/// of an edge add up to one); the incoming gradient of G is a fixed random tensor.
/// </summary>
public sealed class GateCase : IBenchCase
{
    /// <summary>The names of the gate targets.</summary>
    public static readonly string[] Names = ["walk", "walk-d", "single-path"];

    private readonly Tensor _gates;
    private readonly Tensor _gradient;
    private readonly string _name;

    /// <summary>Creates the gates and the incoming gradient on <paramref name="device"/> in <paramref name="dtype"/>.</summary>
    /// <exception cref="ArgumentException">Not a CUDA device, or an unknown name.</exception>
    public GateCase(string name, int batchHeads, (int X, int Y) grid, ScalarType dtype, Device device, long seed)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!Names.Contains(name)) throw new ArgumentException($"unknown gate target '{name}'", nameof(name));
        if (device.type != DeviceType.CUDA)
            throw new ArgumentException($"the gate targets run on CUDA only (got {device})", nameof(device));
        _name = name;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(seed);
        var gates = rand(new long[] { batchHeads, 4, 8, grid.X, grid.Y });
        if (name != "walk")
        {
            var share = gates.select(2, 4);                                                  // T0dl: the turning share
            gates.select(2, 2).copy_(1 - share);                                             // T0rl: the straight share
            gates.select(2, 5).zero_();                                                      // T0ru absent (chirality R)
        }
        long cells = (long)grid.X * grid.Y;
        _gates = gates.to_type(dtype).to(device).MoveToOuterDisposeScope();
        _gradient = (randn(batchHeads, cells, cells) / cells).to_type(dtype).to(device).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void RunOnce()
    {
        using var scope = NewDisposeScope();
        var leaf = _gates.detach().requires_grad_(true);
        var gate = _name == "single-path"
            ? SinglePathGateKernel.Gate(leaf, left: false, null, 0.125)
            : FusedGateKernel.Gate(leaf, null, 0.125);
        gate.backward([_gradient]);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _gates.Dispose();
        _gradient.Dispose();
    }
}
