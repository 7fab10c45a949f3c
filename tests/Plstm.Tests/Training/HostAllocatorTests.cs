using Plstm.Training;

namespace Plstm.Tests.Training;

/// <summary>The glibc malloc settings for CPU training (<see cref="HostAllocator"/>).</summary>
public sealed class HostAllocatorTests
{
    [Fact]
    public void Tuning_applies_on_linux_with_glibc_and_is_idempotent()
    {
        bool switchedOff = Environment.GetEnvironmentVariable(HostAllocator.SwitchVariable) == "0";
        bool tuned = HostAllocator.TuneForTraining();
        if (!OperatingSystem.IsLinux() || switchedOff)
        {
            Assert.False(tuned);
            return;
        }
        // CI and the development machine are Debian (glibc): mallopt must have accepted all three settings.
        Assert.True(tuned);
        Assert.True(HostAllocator.IsTuned);
        Assert.True(HostAllocator.TuneForTraining());
        // Tensors still allocate and free normally afterwards.
        using var big = torch.zeros(64, 32, 64, 64);
        Assert.Equal(0f, big.sum().item<float>());
    }
}
