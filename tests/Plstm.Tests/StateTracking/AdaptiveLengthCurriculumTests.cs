using Plstm.Training.StateTracking;

namespace Plstm.Tests.StateTracking;

/// <summary>The adaptive length curriculum: its length sequence, when it moves, and its argument checks.</summary>
public sealed class AdaptiveLengthCurriculumTests
{
    [Fact]
    public void From_2_to_64_the_lengths_grow_by_a_quarter_at_least_one()
    {
        var lengths = new List<int> { 2 };
        while (lengths[^1] < 64) lengths.Add(AdaptiveLengthCurriculum.Next(lengths[^1], 64));
        Assert.Equal([2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 18, 22, 27, 33, 41, 51, 63, 64], lengths);
    }

    [Fact]
    public void The_length_grows_only_after_a_full_window_at_or_above_the_threshold()
    {
        var curriculum = new AdaptiveLengthCurriculum(4, 6, threshold: 0.9, window: 3);
        Assert.Equal(4, curriculum.Length);
        Assert.False(curriculum.Observe(1.0));
        Assert.False(curriculum.Observe(1.0));
        Assert.False(curriculum.Observe(0.6));                                           // mean 0.867 < 0.9: stays
        Assert.Equal(4, curriculum.Length);
        Assert.False(curriculum.Observe(0.9));
        Assert.False(curriculum.Observe(0.9));
        Assert.True(curriculum.Observe(0.9));                                            // a new window, mean 0.9: moves
        Assert.Equal(5, curriculum.Length);
        Assert.False(curriculum.Done);
        for (int i = 0; i < 2; i++) Assert.False(curriculum.Observe(1.0));
        Assert.True(curriculum.Observe(1.0));
        Assert.Equal(6, curriculum.Length);
        Assert.True(curriculum.Done);
        for (int i = 0; i < 6; i++) Assert.False(curriculum.Observe(1.0));             // at the end it stays
        Assert.Equal(6, curriculum.Length);
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        Assert.Equal("minLength", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveLengthCurriculum(0, 4, 0.9, 5)).ParamName);
        Assert.Equal("maxLength", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveLengthCurriculum(5, 4, 0.9, 5)).ParamName);
        Assert.Equal("threshold", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveLengthCurriculum(2, 4, 0, 5)).ParamName);
        Assert.Equal("threshold", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveLengthCurriculum(2, 4, 1.1, 5)).ParamName);
        Assert.Equal("window", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveLengthCurriculum(2, 4, 0.9, 0)).ParamName);
    }

    [Fact]
    public void A_raise_moves_the_length_up_only_and_restarts_the_window()
    {
        var curriculum = new AdaptiveLengthCurriculum(2, 10, threshold: 0.5, window: 2);
        Assert.False(curriculum.RaiseTo(2));
        Assert.True(curriculum.Observe(1.0) is false);                                  // half a window
        Assert.True(curriculum.RaiseTo(4));
        Assert.Equal(4, curriculum.Length);
        Assert.False(curriculum.Observe(1.0));                                           // the window restarted
        Assert.True(curriculum.Observe(1.0));
        Assert.Equal(5, curriculum.Length);
        Assert.False(curriculum.RaiseTo(3));
        Assert.True(curriculum.RaiseTo(99));
        Assert.Equal(10, curriculum.Length);
        Assert.True(curriculum.Done);
    }

    [Fact]
    public void Options_build_the_curriculum_only_with_a_threshold()
    {
        var options = new StateTrackingOptions { CurriculumThreshold = 0.9, CurriculumSteps = 100 };
        options.Validate();
        Assert.NotNull(options.AdaptiveCurriculum());
        Assert.Null(new StateTrackingOptions().AdaptiveCurriculum());
        Assert.Equal(nameof(StateTrackingOptions.CurriculumThreshold),
            Assert.Throws<ArgumentException>((options with { CurriculumThreshold = 1.5 }).Validate).ParamName);
    }
}
