using Plstm.Interop.Cuda;

namespace Plstm.Tests.Interop;

/// <summary>The kernels' measurement switches read one way: words without case, integers as plain digits in range,
/// everything else the default (null / false). Each case uses its own variable, so parallel tests cannot meet.</summary>
public class RunTimeSwitchTests
{
    private static T With<T>(string name, string? value, Func<T> read)
    {
        Environment.SetEnvironmentVariable(name, value);
        try
        {
            return read();
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Theory]
    [InlineData("off", true)]
    [InlineData("OFF", true)]
    [InlineData(" off", false)]
    [InlineData("of", false)]
    [InlineData(null, false)]
    public void A_word_matches_without_case_and_nothing_else(string? value, bool expected) =>
        Assert.Equal(expected, With("PLSTM_TEST_SWITCH_WORD_" + (value ?? "unset").Trim(), value,
            () => RunTimeSwitch.Is("PLSTM_TEST_SWITCH_WORD_" + (value ?? "unset").Trim(), "off")));

    [Theory]
    [InlineData("4", 4)]
    [InlineData("16", 16)]
    [InlineData("17", null)]          // out of the accepted range
    [InlineData("0", null)]
    [InlineData("+4", null)]          // plain digits only
    [InlineData(" 4", null)]
    [InlineData("4.0", null)]
    [InlineData("four", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void An_integer_is_plain_digits_in_the_accepted_range(string? value, int? expected)
    {
        string name = "PLSTM_TEST_SWITCH_INT_" + Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(value ?? "null"));
        Assert.Equal(expected, With(name, value, () => RunTimeSwitch.Integer(name, v => v is >= 1 and <= 16)));
    }
}
