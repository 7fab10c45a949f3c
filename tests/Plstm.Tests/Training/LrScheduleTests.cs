using Plstm.Training;

namespace Plstm.Tests.Training;

public class LrScheduleTests
{
    [Fact]
    public void Warmup_starts_at_zero_and_reaches_the_peak_linearly()
    {
        var schedule = new LrSchedule(1e-3, WarmupSteps: 10, TotalSteps: 110);
        Assert.Equal(0.0, schedule.At(0));
        Assert.Equal(1e-3 * 3 / 10, schedule.At(3), 15);
        Assert.Equal(1e-3, schedule.At(10), 15);
    }

    [Fact]
    public void Cosine_decays_from_the_peak_to_end_factor_times_peak()
    {
        var schedule = new LrSchedule(2e-3, WarmupSteps: 10, TotalSteps: 110, EndFactor: 1e-3);
        double end = 2e-3 * 1e-3;
        Assert.Equal(end + (2e-3 - end) * 0.5, schedule.At(60), 15); // half-way: cos(π/2) = 0
        Assert.Equal(end, schedule.At(110), 15);
        Assert.Equal(end, schedule.At(500), 15);
        for (long s = 10; s < 110; s++) Assert.True(schedule.At(s + 1) <= schedule.At(s));
        Assert.True(schedule.At(109) > end);
    }

    [Fact]
    public void Default_end_factor_is_one_thousandth()
    {
        var schedule = new LrSchedule(1.0, 0, 100);
        Assert.Equal(1e-3, schedule.EndFactor);
        Assert.Equal(1.0, schedule.At(0));
        Assert.Equal(1e-3, schedule.At(100), 15);
    }

    [Fact]
    public void Is_a_pure_function_of_the_step()
    {
        var a = new LrSchedule(1e-3, 5, 50);
        var b = new LrSchedule(1e-3, 5, 50);
        double[] forward = Enumerable.Range(0, 51).Select(s => a.At(s)).ToArray();
        double[] backward = Enumerable.Range(0, 51).Reverse().Select(s => b.At(s)).Reverse().ToArray();
        Assert.Equal(forward, backward);
    }

    [Fact]
    public void Validate_names_the_bad_field()
    {
        Assert.Equal("PeakLearningRate", Assert.Throws<ArgumentException>(() => new LrSchedule(-1, 0, 10).Validate()).ParamName);
        Assert.Equal("WarmupSteps", Assert.Throws<ArgumentException>(() => new LrSchedule(1, 11, 10).Validate()).ParamName);
        Assert.Equal("EndFactor", Assert.Throws<ArgumentException>(() => new LrSchedule(1, 0, 10, 2).Validate()).ParamName);
    }
}
