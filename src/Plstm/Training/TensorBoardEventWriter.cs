using System.Buffers.Binary;
using System.Text;

namespace Plstm.Training;

/// <summary>
/// Writes scalar summaries to a TensorBoard event file <c>events.out.tfevents.&lt;unix time&gt;.&lt;host&gt;</c>
/// without TensorFlow: TFRecord framing (uint64 length, masked CRC-32C of the length, data, masked CRC-32C of the
/// data; little-endian) around hand-encoded <c>Event</c> protobufs. The first event carries
/// <c>file_version = "brain.Event:2"</c>; each scalar is an <c>Event{wall_time = 1, step = 2, summary = 5}</c> with
/// one <c>Summary.Value{tag = 1, simple_value = 2}</c>. Records are flushed as they are written, so TensorBoard sees
/// them live and a crash loses at most the record being written.
/// </summary>
public sealed class TensorBoardEventWriter : IDisposable
{
    /// <summary>The file version string TensorBoard expects in the first event.</summary>
    public const string FileVersion = "brain.Event:2";

    private readonly FileStream _stream;

    /// <summary>Creates a new event file in <paramref name="folder"/> (created if needed).</summary>
    public TensorBoardEventWriter(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string host = SafeHostName();
        string baseName = $"events.out.tfevents.{now}.{host}";
        string path = Path.Combine(folder, baseName);
        // Two writers started in the same second (e.g. a quick resume) must not share a file.
        for (int n = 1; File.Exists(path); n++) path = Path.Combine(folder, $"{baseName}.{n}");
        FilePath = path;
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        WriteRecord(EncodeEvent(WallTimeNow(), 0, fileVersion: FileVersion, tag: null, value: 0));
    }

    /// <summary>The event file.</summary>
    public string FilePath { get; }

    /// <summary>Appends one scalar.</summary>
    /// <param name="tag">The series name, e.g. <c>train/loss</c>.</param>
    /// <param name="value">The value (stored as float32).</param>
    /// <param name="step">The global step.</param>
    /// <param name="wallTime">Seconds since the Unix epoch; null for now.</param>
    public void WriteScalar(string tag, float value, long step, double? wallTime = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        WriteRecord(EncodeEvent(wallTime ?? WallTimeNow(), step, fileVersion: null, tag, value));
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _stream.Dispose();

    /// <summary>Encodes an <c>Event</c> message: wall_time (1, double), step (2, int64), then either file_version
    /// (3, string) or summary (5, message).</summary>
    internal static byte[] EncodeEvent(double wallTime, long step, string? fileVersion, string? tag, float value)
    {
        using var buffer = new MemoryStream();
        buffer.WriteByte(0x09); // field 1, wire type 1 (64-bit)
        Span<byte> eight = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(eight, wallTime);
        buffer.Write(eight);
        buffer.WriteByte(0x10); // field 2, wire type 0 (varint)
        WriteVarint(buffer, unchecked((ulong)step));
        if (fileVersion is not null)
        {
            buffer.WriteByte(0x1A); // field 3, wire type 2 (length-delimited)
            WriteBytes(buffer, Encoding.UTF8.GetBytes(fileVersion));
        }
        if (tag is not null)
        {
            using var valueMessage = new MemoryStream();
            valueMessage.WriteByte(0x0A); // Summary.Value.tag: field 1, length-delimited
            WriteBytes(valueMessage, Encoding.UTF8.GetBytes(tag));
            valueMessage.WriteByte(0x15); // Summary.Value.simple_value: field 2, wire type 5 (32-bit)
            Span<byte> four = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(four, value);
            valueMessage.Write(four);

            using var summary = new MemoryStream();
            summary.WriteByte(0x0A); // Summary.value: field 1, length-delimited (repeated; one here)
            WriteBytes(summary, valueMessage.ToArray());

            buffer.WriteByte(0x2A); // Event.summary: field 5, length-delimited
            WriteBytes(buffer, summary.ToArray());
        }
        return buffer.ToArray();
    }

    private void WriteRecord(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(data));
        _stream.Write(header);
        _stream.Write(data);
        _stream.Write(footer);
        _stream.Flush();
    }

    private static void WriteBytes(Stream stream, byte[] bytes)
    {
        WriteVarint(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }

    private static double WallTimeNow() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private static string SafeHostName()
    {
        string host;
        try
        {
            host = Environment.MachineName;
        }
        catch (InvalidOperationException)
        {
            host = "localhost";
        }
        // Keep the file name portable: no path separators or other odd characters from exotic host names.
        var chars = host.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        return chars.Length > 0 ? new string(chars) : "localhost";
    }
}
