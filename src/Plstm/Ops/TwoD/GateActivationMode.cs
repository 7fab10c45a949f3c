namespace Plstm.Ops.TwoD;

/// <summary>Which gates a 2D layer's gate pre-activations hold and how they become the walk's eight stacked gates
/// (<see cref="GateActivation"/>; the values are the CUDA kernel's <c>mode</c> argument).</summary>
public enum GateActivationMode
{
    /// <summary>P-mode: kinds orientation ω, source S, mark M (logistic) and transition T (tanh); S0r = ωS,
    /// S0d = 1 − ωS, T0rl = T0ru = ωT, T0du = T0dl = 1 − ωT, M0l = M0u = M.</summary>
    P = 0,

    /// <summary>D-mode with chirality L: kinds S0r, S0d, M0l, M0u (logistic), T0rl, T0du and the turn (tanh), the turn
    /// going up → right (T0ru); T0dl = 0.</summary>
    DLeft = 1,

    /// <summary>D-mode with chirality R: as <see cref="DLeft"/> with the turn going left → down (T0dl); T0ru = 0.</summary>
    DRight = 2,
}
