using System.Text;
using Plstm.Cli;
using Plstm.Training;

namespace Plstm.Tests.Cli;

/// <summary>The small pieces behind <c>train lm</c> and <c>generate</c>: durations, incremental UTF-8 printing and the
/// budget-driven learning-rate schedule.</summary>
public sealed class LanguageModelCliHelpersTests
{
    [Theory]
    [InlineData("600", 600)]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("10min", 600)]
    [InlineData("1.5h", 5400)]
    [InlineData("1h30m", 5400)]
    [InlineData(" 2M ", 120)]
    public void Durations_parse(string text, double seconds) => Assert.Equal(seconds, Duration.TryParseSeconds(text));

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("10 minutes")]
    [InlineData("m10")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    public void Bad_durations_are_refused(string text) => Assert.Null(Duration.TryParseSeconds(text));

    [Fact]
    public void Bytes_print_as_whole_characters_and_invalid_sequences_as_replacement()
    {
        byte[] bytes = [.. "a é € 😀 "u8, 0xFF, (byte)'b', 0xE2, 0x82];                  // invalid byte; cut sequence at the end
        using var output = new StringWriter();
        var writer = new IncrementalUtf8Writer(output);
        var seen = new List<string>();
        foreach (byte b in bytes)
        {
            writer.Write(b);
            seen.Add(output.ToString());
        }
        writer.Finish();
        Assert.Equal("a é € 😀 \uFFFDb\uFFFD", output.ToString());
        // Never half a character: after the first byte of "é" nothing new is printed, after the second the whole.
        int e = Encoding.UTF8.GetByteCount("a ");
        Assert.Equal("a ", seen[e]);
        Assert.Equal("a é", seen[e + 1]);
    }

    [Fact]
    public void A_budget_drives_the_cosine_to_its_end()
    {
        var schedule = new LrSchedule(1e-3, 10, 1_000_000);
        for (long step = 0; step < 40; step += 3)
            Assert.Equal(schedule.At(step), schedule.At(step, 0));                       // no budget: exactly the plain one
        Assert.Equal(schedule.At(5), schedule.At(5, 0.1));                              // the warm-up ramp stays in steps …
        Assert.Equal(1e-6, schedule.At(5, 1.0), 15);                                   // … but a budget ends it too
        Assert.Equal(1e-6, schedule.At(20, 1.0), 15);                                  // budget used: end value
        Assert.Equal(1e-6 + (1e-3 - 1e-6) * 0.5, schedule.At(20, 0.5), 15);            // half way: half the cosine
        Assert.Equal(schedule.At(900_000), schedule.At(900_000, 0.1));                  // the further-advanced clock wins
    }
}
