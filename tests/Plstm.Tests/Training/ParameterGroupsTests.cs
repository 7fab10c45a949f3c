using Plstm.Training;
using TorchSharp.Modules;

namespace Plstm.Tests.Training;

public class ParameterGroupsTests
{
    /// <summary>Parameters named like the vision models' (reference names), plus a frozen one.</summary>
    private sealed class NamedParts : nn.Module<Tensor, Tensor>
    {
        private readonly Linear head;
        private readonly Conv2d proj;

        public NamedParts() : base(nameof(NamedParts))
        {
            head = nn.Linear(4, 2);
            proj = nn.Conv2d(1, 4, 2);
            RegisterComponents();
            register_parameter("cls_token", new Parameter(zeros(4, 1)));
            register_parameter("pos_embed_embed", new Parameter(zeros(1, 2, 2, 4)));
            register_parameter("norm_scale", new Parameter(ones(4)));
            register_parameter("orientation_weight", new Parameter(zeros(4, 2, 4)));
            register_parameter("eigenvalues_bias", new Parameter(zeros(8, 1)));
            register_parameter("gate_kernel", new Parameter(zeros(3, 3)));
            register_parameter("frozen_weight", new Parameter(zeros(2), requires_grad: false));
        }

        public override Tensor forward(Tensor input) => head.forward(input);
    }

    [Fact]
    public void Only_weights_and_kernels_are_decayed()
    {
        using var model = new NamedParts();
        var groups = ParameterGroups.Split(model);
        var decay = groups.Decay.Select(p => p.Name).ToHashSet();
        var noDecay = groups.NoDecay.Select(p => p.Name).ToHashSet();

        Assert.Equal(new HashSet<string> { "head.weight", "proj.weight", "orientation_weight", "gate_kernel" }, decay);
        Assert.Equal(new HashSet<string> { "head.bias", "proj.bias", "cls_token", "pos_embed_embed", "norm_scale", "eigenvalues_bias" },
            noDecay);
        Assert.DoesNotContain("frozen_weight", decay);
        Assert.Equal(decay.Count + noDecay.Count, groups.All.Count());
    }

    [Theory]
    [InlineData("block_stack.blocks.0.block0.interaction_module.query.weight", true)]
    [InlineData("block_stack.blocks.0.block1.interaction_module.transition_rd.eigenvalues_weight", true)]
    [InlineData("patch_embed.proj.kernel", true)]
    [InlineData("block_stack.blocks.0.block0.interaction_module.mhnorm.scale", false)]
    [InlineData("block_stack.blocks.1.scale2.scale", false)]
    [InlineData("pos_embed.embed", false)]
    [InlineData("cls_token", false)]
    [InlineData("head.bias", false)]
    [InlineData("weights_bias", false)]
    public void Name_rule(string name, bool decayed) => Assert.Equal(decayed, ParameterGroups.IsDecayed(name));

    [Fact]
    public void Custom_predicate_overrides_the_rule()
    {
        using var model = new NamedParts();
        var groups = ParameterGroups.Split(model, (_, p) => p.ndim >= 2);
        Assert.Contains(groups.Decay, p => p.Name == "cls_token");
        Assert.Contains(groups.NoDecay, p => p.Name == "head.bias");
    }

    [Fact]
    public void Optimizer_applies_decay_only_to_the_decay_group()
    {
        using var model = new NamedParts();
        var groups = ParameterGroups.Split(model);
        using var optimizer = new AdamWOptimizer(groups, weightDecay: 0.5);
        using (no_grad())
            foreach (var (_, p) in groups.All) p.fill_(1.0);
        // Zero gradients: the Adam step is 0, so any change is the decoupled decay p·(1 − lr·wd).
        foreach (var (_, p) in groups.All) p.grad = zeros_like(p);
        optimizer.SetLearningRate(0.1);
        optimizer.Step();
        foreach (var (name, p) in groups.Decay)
            Assert.True(p.allclose(full_like(p, 1.0 - 0.1 * 0.5)), name);
        foreach (var (name, p) in groups.NoDecay)
            Assert.True(p.allclose(ones_like(p)), name);
    }
}
