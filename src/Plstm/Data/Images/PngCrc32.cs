namespace Plstm.Data.Images;

/// <summary>
/// The CRC-32 of PNG chunks (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320). The BCL's Crc32 lives in the
/// separate System.IO.Hashing package; a 256-entry table is all PNG needs, so no package is added for it.
/// </summary>
internal static class PngCrc32
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>Continues a CRC over <paramref name="data"/>; start with <c>uint.MaxValue</c>, finish with <see cref="Finish"/>.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    /// <summary>The final CRC value of a running register.</summary>
    public static uint Finish(uint crc) => crc ^ uint.MaxValue;

    /// <summary>The CRC of a chunk: over its 4-byte type followed by its data.</summary>
    public static uint OfChunk(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data) =>
        Finish(Update(Update(uint.MaxValue, type), data));

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
