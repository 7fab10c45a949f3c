using System.Text.Json;
using Plstm.Training.Graph;

namespace Plstm.Tests.GraphModels;

public sealed class GraphSplitTests
{
    private static readonly Lazy<JsonDocument> Reference =
        new(() => JsonDocument.Parse(File.ReadAllText(GraphModelTestSupport.Fixture("reference_splits.json"))));

    [Fact]
    public void NumpyRandomStateMatchesNumpy()
    {
        var expected = Reference.Value.RootElement.GetProperty("randomstate42_first_uint32").EnumerateArray()
            .Select(e => e.GetUInt32()).ToArray();
        var rng = new NumpyRandomState(42);
        Assert.Equal(expected, new[] { rng.NextUInt32(), rng.NextUInt32(), rng.NextUInt32() });
        Assert.Equal(Reference.Value.RootElement.GetProperty("randomstate42_random_sample").GetDouble(),
            new NumpyRandomState(42).NextDouble());
        Assert.Equal(1608637542u, new NumpyRandomState(42).NextUInt32());
    }

    [Theory]
    [InlineData("MUTAG")]
    [InlineData("PTC_FM")]
    [InlineData("PROTEINS")]
    public void FoldsEqualScikitLearns(string dataset)
    {
        var root = Reference.Value.RootElement;
        var labels = root.GetProperty("labels").GetProperty(dataset).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var folds = GraphSplits.CrossValidation(labels, 10, 42);
        var expected = root.GetProperty("datasets").GetProperty(dataset).EnumerateArray().ToArray();
        Assert.Equal(10, folds.Count);
        for (int f = 0; f < 10; f++)
        {
            int[] Read(string name) => expected[f].GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.True(folds[f].Stratified);
            Assert.Equal(Read("test"), folds[f].Test);
            Assert.Equal(Read("val"), folds[f].Validation);
            Assert.Equal(Read("train"), folds[f].Train);
        }
    }

    [Fact]
    public void FoldsAreStratifiedDisjointAndDeterministic()
    {
        var rng = new Random(5);
        var labels = Enumerable.Range(0, 233).Select(_ => rng.Next(3) == 0 ? 7 : rng.Next(2)).ToArray();
        var folds = GraphSplits.CrossValidation(labels, 10, 42);
        Assert.Equal(folds.Select(f => f.Test), GraphSplits.CrossValidation(labels, 10, 42).Select(f => f.Test));
        Assert.Equal(folds.Select(f => f.Train), GraphSplits.CrossValidation(labels, 10, 42).Select(f => f.Train));
        Assert.Equal(Enumerable.Range(0, labels.Length), folds.SelectMany(f => f.Test).Order());
        foreach (var fold in folds)
        {
            var all = fold.Train.Concat(fold.Validation).Concat(fold.Test).ToArray();
            Assert.Equal(Enumerable.Range(0, labels.Length), all.Order());
            Assert.InRange(fold.Validation.Count, 23, 25);                                // 1/9 of ≈ 210
            foreach (var c in labels.Distinct())
            {
                double share = labels.Count(l => l == c) / (double)labels.Length;
                Assert.InRange(fold.Test.Count(i => labels[i] == c), Math.Floor(share * fold.Test.Count) - 1, Math.Ceiling(share * fold.Test.Count) + 1);
                Assert.InRange(fold.Validation.Count(i => labels[i] == c), Math.Floor(share * fold.Validation.Count) - 1,
                    Math.Ceiling(share * fold.Validation.Count) + 1);
            }
        }
        Assert.NotEqual(folds[0].Test, GraphSplits.CrossValidation(labels, 10, 43)[0].Test);
    }

    [Fact]
    public void UnstratifiableLabelsFallBackToPlainKFold()
    {
        // Every class smaller than the number of folds: scikit-learn refuses to stratify, the reference uses KFold.
        var labels = Enumerable.Range(0, 30).Select(i => i % 5 == 0 ? 1 : i % 15).ToArray();
        var folds = GraphSplits.CrossValidation(labels, 10, 42);
        Assert.All(folds, f => Assert.False(f.Stratified));
        Assert.Equal(Enumerable.Range(0, 30), folds.SelectMany(f => f.Test).Order());
        Assert.All(folds, f => Assert.Equal(3, f.Test.Count));
    }
}
