using System.Buffers.Binary;
using System.Text;

namespace Plstm.Tests.Training;

/// <summary>
/// An independent reader of TensorBoard event files for the tests: checks the TFRecord framing and both masked
/// CRC-32C values of every record (with its own bitwise CRC, not the library's table), and decodes the
/// <c>Event</c> fields the writer uses.
/// </summary>
internal static class TensorBoardReader
{
    internal sealed record Event(double WallTime, long Step, string? FileVersion, List<(string Tag, float Value)> Values);

    /// <summary>Bitwise CRC-32C (Castagnoli, reflected 0x82F63B78).</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        return ~crc;
    }

    public static uint Masked(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8);
    }

    public static List<Event> Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        int pos = 0;
        while (pos < bytes.Length)
        {
            Assert.True(bytes.Length - pos >= 12, "truncated record header");
            var header = bytes.AsSpan(pos, 8);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            Assert.Equal(Masked(header), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos + 8, 4)));
            pos += 12;
            Assert.True((ulong)(bytes.Length - pos) >= length + 4, "truncated record body");
            var data = bytes.AsSpan(pos, (int)length);
            Assert.Equal(Masked(data), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos + (int)length, 4)));
            events.Add(DecodeEvent(data.ToArray()));
            pos += (int)length + 4;
        }
        return events;
    }

    private static Event DecodeEvent(byte[] message)
    {
        double wallTime = 0;
        long step = 0;
        string? fileVersion = null;
        var values = new List<(string, float)>();
        int pos = 0;
        while (pos < message.Length)
        {
            ulong key = ReadVarint(message, ref pos);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (field, wire)
            {
                case (1, 1):
                    wallTime = BinaryPrimitives.ReadDoubleLittleEndian(message.AsSpan(pos, 8));
                    pos += 8;
                    break;
                case (2, 0):
                    step = (long)ReadVarint(message, ref pos);
                    break;
                case (3, 2):
                    fileVersion = Encoding.UTF8.GetString(ReadBytes(message, ref pos));
                    break;
                case (5, 2):
                    values.AddRange(DecodeSummary(ReadBytes(message, ref pos)));
                    break;
                default:
                    Assert.Fail($"unexpected Event field {field} (wire type {wire})");
                    break;
            }
        }
        return new Event(wallTime, step, fileVersion, values);
    }

    private static IEnumerable<(string, float)> DecodeSummary(byte[] summary)
    {
        int pos = 0;
        while (pos < summary.Length)
        {
            Assert.Equal(0x0AUL, ReadVarint(summary, ref pos)); // Summary.value, length-delimited
            byte[] value = ReadBytes(summary, ref pos);
            string? tag = null;
            float? simple = null;
            int p = 0;
            while (p < value.Length)
            {
                ulong key = ReadVarint(value, ref p);
                if (key == 0x0A) tag = Encoding.UTF8.GetString(ReadBytes(value, ref p));
                else if (key == 0x15) { simple = BinaryPrimitives.ReadSingleLittleEndian(value.AsSpan(p, 4)); p += 4; }
                else Assert.Fail($"unexpected Summary.Value key {key}");
            }
            Assert.NotNull(tag);
            Assert.NotNull(simple);
            yield return (tag!, simple!.Value);
        }
    }

    private static byte[] ReadBytes(byte[] buffer, ref int pos)
    {
        int length = (int)ReadVarint(buffer, ref pos);
        var result = buffer.AsSpan(pos, length).ToArray();
        pos += length;
        return result;
    }

    private static ulong ReadVarint(byte[] buffer, ref int pos)
    {
        ulong result = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = buffer[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
    }
}
