using System.Text;

namespace Plstm.Cli;

/// <summary>
/// Prints a byte stream as UTF-8 text as it arrives: a character split over several bytes is printed once its last
/// byte is in, and invalid sequences are replaced by U+FFFD (as <see cref="Encoding.UTF8"/> decodes them). Each
/// <see cref="Write"/> flushes the writer, so the text appears immediately.
/// </summary>
public sealed class IncrementalUtf8Writer
{
    private readonly TextWriter _output;
    // Encoding.UTF8's decoder keeps an incomplete sequence between calls and replaces invalid bytes with U+FFFD.
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly char[] _chars = new char[8];

    /// <summary>Writes to <paramref name="output"/>.</summary>
    public IncrementalUtf8Writer(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    /// <summary>Adds one byte; prints whatever characters it completes.</summary>
    public void Write(byte value)
    {
        ReadOnlySpan<byte> one = [value];
        int count = _decoder.GetChars(one, _chars, flush: false);
        if (count > 0)
        {
            _output.Write(_chars, 0, count);
            _output.Flush();
        }
    }

    /// <summary>Ends the stream: an incomplete trailing sequence is printed as U+FFFD.</summary>
    public void Finish()
    {
        int count = _decoder.GetChars(ReadOnlySpan<byte>.Empty, _chars, flush: true);
        if (count > 0) _output.Write(_chars, 0, count);
        _output.Flush();
    }
}
