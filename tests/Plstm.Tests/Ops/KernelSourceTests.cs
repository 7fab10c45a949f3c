using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Ops;

/// <summary>
/// <see cref="KernelSource"/>: the CUDA sources are embedded under the names the kernel classes ask for (the CPU suite
/// never compiles them, so a renamed file would otherwise surface only on a GPU), and a set override variable reads a
/// variant file instead.
/// </summary>
public class KernelSourceTests
{
    [Theory]
    [InlineData("fused_gate.cu", "plstm_fused_gate_backward")]
    [InlineData("gate_activation.cu", "plstm_gate_activation_backward")]
    [InlineData("masked_attention.cu", "plstm_masked_attention_backward_key")]
    [InlineData("single_path_gate.cu", "single_path_chains")]
    public void Embeds_every_kernel_source(string file, string kernel)
    {
        var source = KernelSource.Read(file);
        Assert.NotNull(source);
        Assert.Contains(kernel, source, StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_a_missing_source_as_null_and_an_override_from_its_file()
    {
        Assert.Null(KernelSource.Read("no_such_kernel.cu"));
        using var temp = new TempFolder();
        string path = temp.File("variant.cu");
        File.WriteAllText(path, "// variant");
        const string variable = "PLSTM_TEST_KERNEL_SOURCE";
        Environment.SetEnvironmentVariable(variable, path);
        try
        {
            Assert.Equal("// variant", KernelSource.Read("fused_gate.cu", variable));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
        Assert.Contains("plstm_fused_gate_forward", KernelSource.Read("fused_gate.cu", variable), StringComparison.Ordinal);
    }
}
