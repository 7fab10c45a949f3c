namespace Plstm.Blocks;

/// <summary>
/// Which layer mode each of the two PostUp blocks of a <see cref="PlstmVisionBlockPair"/> uses (models §6.2).
/// </summary>
public enum PlstmBlockMode
{
    /// <summary>P-mode layer, then D-mode layer: every vision config (<c>block_mode: PD</c>).</summary>
    PD,

    /// <summary>D-mode layer, then P-mode layer (<c>block_mode: DP</c>; offered by the reference, unused).</summary>
    DP,

    /// <summary>Both layers P-mode: the "P-mode only" ablation (<c>plstm_vis_t_pmodeonly</c>).</summary>
    PP,

    /// <summary>Both layers D-mode: the "D-mode only" ablation (<c>plstm_vis_t_dmodeonly</c>).</summary>
    DD,
}
