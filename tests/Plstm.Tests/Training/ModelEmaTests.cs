using Plstm.Tests.Support;
using Plstm.Training;

namespace Plstm.Tests.Training;

[Collection(TrainingSerialCollection.Name)]
public class ModelEmaTests
{
    private static nn.Module<Tensor, Tensor> Net(long seed)
    {
        torch.random.manual_seed(seed);
        return nn.Sequential(("fc", nn.Linear(3, 2)), ("norm", nn.BatchNorm1d(2)));
    }

    [Fact]
    public void Decay_warms_up_then_holds_the_long_run_value()
    {
        using var net = Net(1);
        using var ema = new ModelEma(net, 0.99);
        Assert.Equal(0.1, ema.DecayAt(0), 15);
        Assert.Equal(11.0 / 20.0, ema.DecayAt(10), 15);
        Assert.Equal(0.99, ema.DecayAt(1_000), 15);   // (1 + n) / (10 + n) passes 0.99 at n = 890
        Assert.Throws<ArgumentOutOfRangeException>(() => ema.DecayAt(-1));
    }

    [Fact]
    public void Updates_follow_the_recurrence_for_floats_and_copy_integer_buffers()
    {
        using var net = Net(2);
        var expected = net.state_dict().ToDictionary(e => e.Key, e => e.Value.to_type(ScalarType.Float64).clone());
        using var ema = new ModelEma(net, 0.5);
        for (long step = 0; step < 6; step++)
        {
            using (no_grad())
                foreach (var p in net.parameters()) p.add_(randn_like(p));
            net.train();
            net.forward(randn(4, 3)).Dispose();   // moves BatchNorm's running stats and its integer batch counter
            ema.Update(net, step);
            double d = ema.DecayAt(step);
            foreach (var (key, value) in net.state_dict())
            {
                if (value.is_floating_point()) expected[key] = expected[key] * d + value.to_type(ScalarType.Float64) * (1 - d);
                else expected[key] = value.to_type(ScalarType.Float64).clone();
            }
        }
        foreach (var (key, value) in ema.Average)
            Assert.True(value.to_type(ScalarType.Float64).allclose(expected[key], rtol: 1e-6, atol: 1e-6), key);
        Assert.Equal(6L, ema.Average["norm.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void Swap_exchanges_average_and_weights_and_a_second_swap_undoes_it()
    {
        using var net = Net(3);
        using var ema = new ModelEma(net, 0.9);
        using (no_grad())
            foreach (var p in net.parameters()) p.add_(1.0);
        ema.Update(net, 100);
        var live = net.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());
        var averaged = ema.Average.ToDictionary(e => e.Key, e => e.Value.clone());

        ema.Swap(net);
        foreach (var (key, value) in net.state_dict()) Assert.True(value.eq(averaged[key]).all().item<bool>(), key);
        foreach (var (key, value) in ema.Average) Assert.True(value.eq(live[key]).all().item<bool>(), key);
        ema.Swap(net);
        foreach (var (key, value) in net.state_dict()) Assert.True(value.eq(live[key]).all().item<bool>(), key);
        foreach (var (key, value) in ema.Average) Assert.True(value.eq(averaged[key]).all().item<bool>(), key);
        Assert.True(net.parameters().All(p => p.requires_grad));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void A_decay_outside_the_open_unit_interval_names_the_argument(double decay)
    {
        using var net = Net(4);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ModelEma(net, decay));
        Assert.Equal("decay", error.ParamName);
    }

    [Fact]
    public void Another_model_is_refused()
    {
        using var net = Net(5);
        using var other = nn.Sequential(("fc", nn.Linear(3, 2)));
        using var ema = new ModelEma(net, 0.9);
        Assert.Throws<InvalidOperationException>(() => ema.Update(other, 0));
        Assert.Throws<InvalidOperationException>(() => ema.Swap(other));
    }
}
