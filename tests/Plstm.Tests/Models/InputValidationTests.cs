using Plstm.Models;
using Plstm.Tests.Support;

namespace Plstm.Tests.Models;

/// <summary>Bad images are rejected with an ArgumentException that states the expected shape.</summary>
public class InputValidationTests
{
    public static TheoryData<string, long[], string> BadInputs() => new()
    {
        // preset, input shape (channels-last), expected fragment of the message
        { "plstm_vit_tiny", new long[] { 2, 32, 32, 4 }, "4 channels instead of 3" },
        { "vit_tiny", new long[] { 2, 32, 32, 1 }, "1 channels instead of 3" },
        { "plstm_vit_tiny", new long[] { 2, 4, 4, 3 }, "smaller than one 8×8 patch" },
        { "vit_tiny", new long[] { 1, 32, 4, 3 }, "smaller than one 8×8 patch" },
        { "plstm_vit_tiny", new long[] { 2, 36, 32, 3 }, "not divisible by the patch size 8" },
        { "vit_tiny", new long[] { 2, 32, 30, 3 }, "not divisible by the patch size 8" },
        { "plstm_vit_tiny", new long[] { 32, 32, 3 }, "rank 3" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_images_name_the_expected_shape(string preset, long[] shape, string fragment)
    {
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Create(preset);
        var ex = Assert.Throws<ArgumentException>(() => model.forward(zeros(shape)));
        Assert.Contains("[B, H, W, 3]", ex.Message);
        Assert.Contains(TensorAssert.FormatShape(shape), ex.Message);
        Assert.Contains(fragment, ex.Message);
        Assert.Equal("images", ex.ParamName);
    }

    [Fact]
    public void Integer_images_are_rejected()
    {
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Create("vit_tiny");
        var ex = Assert.Throws<ArgumentException>(() => model.forward(zeros(new long[] { 1, 32, 32, 3 }, dtype: uint8)));
        Assert.Contains("float", ex.Message);
    }

    [Fact]
    public void Channels_first_models_take_nchw_and_match_channels_last()
    {
        using var scope = NewDisposeScope();
        manual_seed(31);
        var lastConfig = ModelRegistry.Get("plstm_vit_tiny").PlstmConfig! with { NumBlocks = 1 };
        using var last = new PlstmVisionModel(lastConfig);
        using var first = new PlstmVisionModel(lastConfig with { ChannelsFirst = true });
        var state = last.state_dict();
        using (no_grad())
            foreach (var (key, value) in first.state_dict())
                value.copy_(state[key]);
        last.eval();
        first.eval();
        var images = randn(2, 16, 24, 3);                                               // [B, H, W, C]
        using (no_grad())
            TensorAssert.AssertCloseFloat32(first.forward(images.permute(0, 3, 1, 2)), last.forward(images), "nchw");
        var ex = Assert.Throws<ArgumentException>(() => first.forward(images));
        Assert.Contains("[B, 3, H, W]", ex.Message);
    }

    [Fact]
    public void Invalid_configs_name_the_field()
    {
        var plstm = new PlstmVisionConfig();
        Assert.Contains("Dim", Assert.Throws<ArgumentException>(() => (plstm with { Dim = 100 }).Validate()).Message);
        Assert.Contains("ImageSize", Assert.Throws<ArgumentException>(() => (plstm with { ImageSize = 200 }).Validate()).Message);
        Assert.Contains("Pooling", Assert.Throws<ArgumentException>(() =>
            (plstm with { Pooling = VisionPooling.Cls }).Validate()).Message);
        Assert.Contains("NumHeads", Assert.Throws<ArgumentException>(() => (new VitConfig() with { NumHeads = 0 }).Validate()).Message);
        Assert.Throws<ArgumentException>(() => ModelRegistry.Create("vit_tiny", imageSize: 30));
    }

    [Theory]
    [InlineData(VisionPooling.Center)]
    [InlineData(VisionPooling.Mean)]
    [InlineData(VisionPooling.Sum)]
    public void Other_poolings_give_one_d_vector(VisionPooling pooling)
    {
        using var scope = NewDisposeScope();
        var config = ModelRegistry.Get("plstm_vit_tiny").PlstmConfig! with { NumBlocks = 1, Pooling = pooling };
        using var model = new PlstmVisionModel(config);
        Assert.Equal(64, model.PooledDim);
        Assert.Equal(new long[] { 2, 64 }, model.Features(randn(2, 24, 16, 3)).shape);
        Assert.Equal(new long[] { 2, 10 }, model.forward(randn(2, 24, 16, 3)).shape);
    }

    [Fact]
    public void Corner_pooling_takes_the_four_corners_in_reference_order()
    {
        using var scope = NewDisposeScope();
        var features = arange(2 * 3 * 4 * 1, dtype: float64).reshape(2, 3, 4, 1);       // [B, X, Y, D]
        var pooled = VisionModel.Pool(features, VisionPooling.Corners);
        // (0,0), (X−1,0), (0,Y−1), (X−1,Y−1) for the first sample: 0, 8, 3, 11.
        Assert.Equal(new double[] { 0, 8, 3, 11 }, pooled[0].data<double>().ToArray());
        Assert.Equal(new double[] { 6 }, VisionModel.Pool(features, VisionPooling.Center)[0].data<double>().ToArray());
    }
}
