namespace Plstm.Layers;

/// <summary>
/// Gate wiring of a fused 2D pLSTM layer (models §1.4). Both modes run the same four-orientation operator; they differ
/// only in how the raw S/T/M gates are turned into the operator's source, transition and mark gates.
/// </summary>
public enum Plstm2DMode
{
    /// <summary>
    /// Propagation mode: one S/T/M set and an input-dependent orientation gate o that splits state between the two
    /// outgoing edges: <c>s_r = o·S</c>, <c>s_d = 1 − o·S</c>, <c>t_rl = t_ru = o·T</c>, <c>t_du = t_dl = 1 − o·T</c>,
    /// <c>m_l = m_u = M</c>.
    /// </summary>
    P,

    /// <summary>
    /// Directional mode: separate source (r, d), transition (r, d, turn rd) and mark (l, u) gates; only one turning
    /// transition exists (chosen by the chirality), so exactly one path joins any two cells.
    /// </summary>
    D,
}
