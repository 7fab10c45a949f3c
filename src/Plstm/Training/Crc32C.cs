namespace Plstm.Training;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) and the "masked" form TFRecord files use
/// (<c>((crc &gt;&gt; 15) | (crc &lt;&lt; 17)) + 0xa282ead8</c>), needed to frame TensorBoard event records.
/// </summary>
public static class Crc32C
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32C of <paramref name="data"/> ("123456789" → 0xE3069283).</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    /// <summary>The masked CRC-32C of <paramref name="data"/> as stored in TFRecord framing.</summary>
    public static uint Masked(ReadOnlySpan<byte> data) => Mask(Compute(data));

    /// <summary>Masks a CRC the TFRecord way (so that CRCs of data containing CRCs stay well distributed).</summary>
    public static uint Mask(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        return table;
    }
}
