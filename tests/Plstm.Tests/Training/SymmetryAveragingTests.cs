using Plstm.Tests.Support;
using Plstm.Training;

namespace Plstm.Tests.Training;

public class SymmetryAveragingTests
{
    /// <summary>The eight symmetries of the square built independently of <see cref="SymmetryAveraging.View"/>:
    /// quarter turns of the image and of its mirror image.</summary>
    private static List<Tensor> DihedralByRotation(Tensor images)
    {
        var views = new List<Tensor>();
        foreach (var source in new[] { images, images.flip(3) })
            for (int k = 0; k < 4; k++)
                views.Add(torch.rot90(source, k, (2, 3)));
        return views;
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void The_eight_views_are_the_eight_symmetries_of_the_square_and_form_a_group()
    {
        using var scope = NewDisposeScope();
        var image = torch.randn(new long[] { 2, 3, 5, 5 }, ScalarType.Float64, generator: new Generator(7));
        var views = Enumerable.Range(0, 8).Select(v => SymmetryAveraging.View(image, v)).ToList();
        Assert.True(Same(views[0], image));
        // All distinct, and each is one of the rotations / rotated mirror images (so together they are all eight).
        for (int i = 0; i < 8; i++)
            for (int j = i + 1; j < 8; j++)
                Assert.False(Same(views[i], views[j]), $"views {i} and {j} coincide");
        var reference = DihedralByRotation(image);
        Assert.All(views, v => Assert.Contains(reference, r => Same(v, r)));
        // Closed under composition: a view of a view is a view (bit 2 applied first, as documented).
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
            {
                var twice = SymmetryAveraging.View(SymmetryAveraging.View(image, i), j);
                Assert.Contains(views, v => Same(v, twice));
            }
        // The four flip views are the first four and keep the shape of a non-square image.
        var wide = torch.randn(new long[] { 1, 1, 3, 6 }, ScalarType.Float64, generator: new Generator(8));
        for (int v = 0; v < 4; v++) Assert.Equal(wide.shape, SymmetryAveraging.View(wide, v).shape);
        Assert.True(Same(SymmetryAveraging.View(wide, 3), torch.rot90(wide, 2, (2, 3))));
    }

    [Fact]
    public void Transposing_views_of_non_square_images_and_bad_inputs_are_refused()
    {
        using var scope = NewDisposeScope();
        var wide = torch.zeros(1, 1, 3, 6);
        var ex = Assert.Throws<ArgumentException>(() => SymmetryAveraging.View(wide, 4));
        Assert.Equal("images", ex.ParamName);
        Assert.Contains("square", ex.Message);
        Assert.Throws<ArgumentException>(() => SymmetryAveraging.Logits(x => x.flatten(1), wide, TestTimeAugmentation.Dihedral));
        Assert.Equal("images", Assert.Throws<ArgumentException>(() => SymmetryAveraging.View(torch.zeros(3, 6), 0)).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => SymmetryAveraging.View(wide, 8)).ParamName);
    }

    [Theory]
    [InlineData(TestTimeAugmentation.Flips, 4)]
    [InlineData(TestTimeAugmentation.Dihedral, 8)]
    public void Logits_are_the_log_of_the_views_mean_probabilities(TestTimeAugmentation kind, int views)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var images = torch.randn(new long[] { 5, 2, 4, 4 }, ScalarType.Float64, generator: generator);
        var weight = torch.randn(new long[] { 2 * 4 * 4, 3 }, ScalarType.Float64, generator: generator);
        Tensor Classify(Tensor x) => x.flatten(1).matmul(weight); // not symmetric: the views disagree

        var actual = SymmetryAveraging.Logits(Classify, images, kind);

        Assert.Equal(views, SymmetryAveraging.ViewCount(kind));
        var all = DihedralByRotation(images);
        // Flips: identity, both mirrors and the half turn.
        var chosen = views == 8 ? all : [all[0], all[2], all[4], all[6]];
        var expected = torch.stack(chosen.Select(v => torch.softmax(Classify(v), 1)).ToArray()).mean([0]).log();
        TensorAssert.AssertClose(actual, expected, "averaged log-probabilities", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        // The single views do disagree, so the test could fail.
        Assert.False(torch.softmax(Classify(images), 1).allclose(actual.exp(), rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void No_augmentation_returns_the_classifier_logits_and_an_invariant_classifier_is_unchanged()
    {
        using var scope = NewDisposeScope();
        var images = torch.randn(new long[] { 4, 1, 6, 6 }, ScalarType.Float64, generator: new Generator(3));
        var weight = torch.tensor(new[] { 1.0, -2.0, 0.5 }, ScalarType.Float64);
        // The mean pixel is the same in every view.
        Tensor Invariant(Tensor x) => x.mean([1, 2, 3]).unsqueeze(1).mul(weight);
        TensorAssert.AssertClose(SymmetryAveraging.Logits(Invariant, images, TestTimeAugmentation.None),
            Invariant(images), "logits without augmentation", 0, 0);
        TensorAssert.AssertClose(SymmetryAveraging.Logits(Invariant, images, TestTimeAugmentation.Dihedral),
            nn.functional.log_softmax(Invariant(images), 1), "invariant classifier", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    [Fact]
    public void Names_round_trip_and_unknown_names_are_refused()
    {
        foreach (var kind in Enum.GetValues<TestTimeAugmentation>())
            Assert.Equal(kind, TestTimeAugmentationNames.Parse(kind.ToName()));
        Assert.Equal(TestTimeAugmentation.Dihedral, TestTimeAugmentationNames.Parse(" D4 "));
        var ex = Assert.Throws<ArgumentException>(() => TestTimeAugmentationNames.Parse("rot"));
        Assert.Contains("none, flips or d4", ex.Message);
    }
}
