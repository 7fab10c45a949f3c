using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Tests.Ops;

/// <summary><see cref="BackwardResults"/>: a call's returned gradients leave every dispose scope and are released by the
/// thread's next call, not before (the engine still reads them when the call returns).</summary>
public class BackwardResultsTests
{
    [Fact]
    public void Results_live_until_the_threads_next_call_and_no_longer()
    {
        Tensor first, second;
        using (var scope = NewDisposeScope())
        {
            first = ones(3);
            BackwardResults.Hand([first, null!]);
        }
        Assert.False(first.IsInvalid);                                          // out of the scope: still alive
        Assert.Equal(3.0, first.sum().item<float>());
        using (var scope = NewDisposeScope())
        {
            second = zeros(2);
            BackwardResults.Hand([second]);
        }
        Assert.True(first.IsInvalid);                                           // released by the next call
        Assert.False(second.IsInvalid);
        BackwardResults.Hand([]);
        Assert.True(second.IsInvalid);
    }
}
