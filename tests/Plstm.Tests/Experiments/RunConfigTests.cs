using Plstm.Data;
using Plstm.Experiments;

namespace Plstm.Tests.Experiments;

/// <summary>The run configuration stored in checkpoints rebuilds exactly the trained architecture.</summary>
public sealed class RunConfigTests
{
    [Theory]
    [InlineData("plstm_vit_tiny", 4)]
    [InlineData("vit_tiny", 7)]
    public void Round_trips_through_json(string presetName, int? patch)
    {
        var spec = new ExperimentModel("m", presetName, 1e-3, patch).Spec(28, 1, 10);
        var config = new RunConfig
        {
            Experiment = "fashion-mnist",
            ModelKey = "m",
            Model = spec,
            Data = new RunDataConfig
            {
                Kind = ExperimentDataKind.FashionMnist,
                ImageSize = 28,
                Channels = 1,
                ValidationCount = 5000,
                ClassNames = ["a", "b"],
                NormalizationMean = [Normalization.FashionMnistMean],
                NormalizationStd = [Normalization.FashionMnistStd],
            },
        };
        string json = config.ToJson();
        Assert.Contains("\"format\": \"plstm-run\"", json);
        var back = RunConfig.FromJson(json);
        Assert.Equal(spec.Plstm, back.Model.Plstm);
        Assert.Equal(spec.Vit, back.Model.Vit);
        Assert.Equal(spec.Family, back.Model.Family);
        Assert.Equal(config.Data.ClassNames, back.Data.ClassNames);
        Assert.Equal(config.Data.NormalizationMean, back.Data.NormalizationMean);
        Assert.Equal(5000, back.Data.ValidationCount);
        Assert.True(back.ChannelsLast);
        using var a = spec.Create();
        using var b = back.Model.Create();
        Assert.Equal(a.state_dict().Keys, b.state_dict().Keys);
        Assert.Equal(a.ParameterCount(), b.ParameterCount());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"format\": \"other\"}")]
    [InlineData("not json")]
    [InlineData("{\"format\": \"plstm-run\", \"version\": 9, \"model\": {}, \"data\": {}}")]
    public void Rejects_foreign_or_newer_files(string json) =>
        Assert.Throws<InvalidDataException>(() => RunConfig.FromJson(json));
}
