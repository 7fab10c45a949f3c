using Plstm.Data;
using Plstm.Data.ArrowPointing;
using Plstm.Training;

namespace Plstm.Tests.Training;

public class SymmetryCurriculumTests
{
    [Fact]
    public void Dihedral_turns_mirror_x_then_y_then_swap_the_axes()
    {
        using var scope = NewDisposeScope();
        var image = arange(6f).reshape(1, 2, 3);                      // [C, H, W]: rows (0 1 2), (3 4 5)
        float[] Values(DihedralTurn t) => t.Apply(image).contiguous().data<float>().ToArray();
        Assert.Equal([0f, 1, 2, 3, 4, 5], Values(DihedralTurn.Identity));
        Assert.Equal([2f, 1, 0, 5, 4, 3], Values(new DihedralTurn(FlipX: true, FlipY: false, Transpose: false)));
        Assert.Equal([3f, 4, 5, 0, 1, 2], Values(new DihedralTurn(FlipX: false, FlipY: true, Transpose: false)));
        Assert.Equal([0f, 3, 1, 4, 2, 5], Values(new DihedralTurn(FlipX: false, FlipY: false, Transpose: true)));
        // Mirror x, then transpose: column 2 (2, 5) becomes row 0.
        Assert.Equal([2f, 5, 1, 4, 0, 3], Values(new DihedralTurn(FlipX: true, FlipY: false, Transpose: true)));
    }

    [Fact]
    public void Canonical_arrow_images_have_the_circle_right_of_and_below_the_arrow()
    {
        // Paper scale (192 px) for objects large enough to compare renders. The canonical turn of each image must
        // equal, up to rasterisation, the render of the sample with its geometry turned the same way, and that
        // geometry must have the circle at 0 ≤ dy ≤ dx from the arrow's centre.
        var data = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, 42), 40, Normalization.Identity);
        int size = data.ImageSize;
        var seen = new HashSet<DihedralTurn>();
        for (int i = 0; i < data.Count; i++)
        {
            using var scope = NewDisposeScope();
            var sample = data.GetSample(i);
            var turn = data.CanonicalTurn(i);
            seen.Add(turn);
            var turned = Turn(sample, turn, size);
            double dx = turned.Cx - turned.Ax, dy = turned.Cy - turned.Ay;
            Assert.True(dy >= 0 && dy <= dx, $"sample {i}: dx {dx}, dy {dy}");

            var image = turn.Apply(data.Get(i).Image).lt(0.5f);                        // black pixels, [3, S, S]
            var expected = data.Generator.Render(turned);
            var reference = tensor(expected.Select(b => b < 128).ToArray()).reshape(1, size, size);
            double overlap = image[0].logical_and(reference[0]).sum().item<long>();
            double union = image[0].logical_or(reference[0]).sum().item<long>();
            Assert.True(overlap / union > 0.9, $"sample {i} ({turn}): IoU {overlap / union:F3}");
        }
        Assert.True(seen.Count >= 6, $"only {seen.Count} distinct canonical turns in 40 samples");
    }

    /// <summary>The sample's geometry under <paramref name="turn"/> (mirror x, mirror y, then swap axes); the renderer
    /// puts pixel centres at integer coordinates, so x → S − 1 − x mirrors the pixel grid.</summary>
    private static ArrowPointingSample Turn(ArrowPointingSample s, DihedralTurn turn, int size)
    {
        double ax = s.Ax, ay = s.Ay, cx = s.Cx, cy = s.Cy, phi = s.Phi;
        if (turn.FlipX) (ax, cx, phi) = (size - 1 - ax, size - 1 - cx, Math.PI - phi);
        if (turn.FlipY) (ay, cy, phi) = (size - 1 - ay, size - 1 - cy, -phi);
        if (turn.Transpose) (ax, ay, cx, cy, phi) = (ay, ax, cy, cx, Math.PI / 2 - phi);
        return s with { Ax = ax, Ay = ay, Cx = cx, Cy = cy, Phi = phi };
    }

    [Fact]
    public void Stages_advance_after_full_windows_that_reach_the_threshold()
    {
        var c = new SymmetryCurriculum(threshold: 0.8, window: 3, seed: 1);
        Assert.False(c.Observe(1.0, 1));
        Assert.False(c.Observe(1.0, 2));
        Assert.False(c.Observe(0.3, 3));                      // mean 0.77: the window closes without advancing
        Assert.Equal(0, c.Stage);
        Assert.False(c.Observe(0.9, 4));
        Assert.False(c.Observe(0.7, 5));
        Assert.True(c.Observe(0.8, 6));                       // mean 0.8
        Assert.Equal(1, c.Stage);
        for (long step = 7; step <= 15; step++) c.Observe(1.0, step);
        Assert.Equal(SymmetryCurriculum.FinalStage, c.Stage);
        Assert.Equal([6L, 9, 12, 15], c.StageSteps);
        Assert.False(c.Observe(1.0, 16));                     // nothing after the last stage
        Assert.Throws<ArgumentOutOfRangeException>(() => new SymmetryCurriculum(0, 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SymmetryCurriculum(0.5, 0, 1));
    }

    [Fact]
    public void Each_stage_releases_exactly_its_symmetries_and_the_draws_repeat_per_step()
    {
        using var scope = NewDisposeScope();
        const int n = 64, side = 5;
        var data = new OrientedDataset(new SyntheticDataset(count: n, size: side, seed: 3));
        var indices = Enumerable.Range(0, n).ToArray();
        var images = stack(indices.Select(i => data.Get(i).Image).ToArray());                    // [n, 1, 5, 5]
        var c = new SymmetryCurriculum(threshold: 1e-9, window: 1, seed: 9);
        for (int stage = 0; stage <= SymmetryCurriculum.FinalStage; stage++)
        {
            var turned = c.Turn(images, indices, data, step: 17);
            Assert.Equal(images.shape, turned.shape);
            Assert.True(Same(turned, c.Turn(images, indices, data, step: 17)), "same step, same draws");
            var used = new HashSet<int>();
            for (int i = 0; i < n; i++)
            {
                // Which turn after the canonical one gives this output? (The random synthetic images have no symmetry,
                // so exactly one does.)
                used.Add(Relative(data.CanonicalTurn(i), images[i], turned[i]));
            }
            // Stage 0: only the canonical turn; 1: and its transpose; 2: also mirrored x; 3: all eight; 4: raw images.
            int[] allowed = stage switch { 0 => [0], 1 => [0, 4], 2 => [0, 1, 4, 5], _ => [0, 1, 2, 3, 4, 5, 6, 7] };
            if (stage < SymmetryCurriculum.FinalStage)
            {
                Assert.Subset(allowed.ToHashSet(), used);
                Assert.Equal(allowed.Length, used.Count);
            }
            else
            {
                Assert.True(Same(turned, images), "the final stage trains on the raw images");
            }
            c.Observe(1.0, stage + 1);
        }
        Assert.False(Same(new SymmetryCurriculum(1e-9, 1, seed: 9).WithStage(3).Turn(images, indices, data, 17),
            new SymmetryCurriculum(1e-9, 1, seed: 9).WithStage(3).Turn(images, indices, data, 18)), "another step, other draws");
    }

    /// <summary>The code (bit 0 mirror x, bit 1 mirror y, bit 2 transpose) of the turn applied after the canonical
    /// one: the code r whose Apply, after the canonical turn, gives <paramref name="output"/>.</summary>
    private static int Relative(DihedralTurn canonical, Tensor raw, Tensor output)
    {
        var canon = canonical.Apply(raw);
        var codes = Enumerable.Range(0, 8).Where(code =>
        {
            var t = OrientedDataset.Turn(code);
            // The curriculum applies transpose first, then the mirrors.
            var x = new DihedralTurn(false, false, t.Transpose).Apply(canon);
            return Same(new DihedralTurn(t.FlipX, t.FlipY, false).Apply(x), output);
        }).ToArray();
        Assert.Single(codes);
        return codes[0];
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void State_round_trips_and_bad_states_are_refused()
    {
        var c = new SymmetryCurriculum(0.5, window: 4, seed: 2);
        for (long step = 1; step <= 6; step++) c.Observe(1.0, step);       // stage 1 at step 4, two steps open
        var state = c.GetState();
        var d = new SymmetryCurriculum(0.5, window: 4, seed: 2);
        d.SetState(state);
        Assert.Equal(c.GetState().Stage, d.GetState().Stage);
        Assert.Equal(c.GetState().StageSteps, d.GetState().StageSteps);
        Assert.Equal(c.Observe(1.0, 7), d.Observe(1.0, 7));
        Assert.Equal(c.Observe(1.0, 8), d.Observe(1.0, 8));                // both close the window now
        Assert.Equal(2, d.Stage);
        Assert.Throws<InvalidDataException>(() => d.SetState(state with { StepsInWindow = 4 }));
        Assert.Throws<InvalidDataException>(() => d.SetState(state with { Stage = 5 }));
        Assert.Throws<InvalidDataException>(() => d.SetState(state with { StageSteps = [] }));
    }
}

internal static class SymmetryCurriculumTestExtensions
{
    /// <summary>Advances a fresh curriculum (threshold reached by any accuracy) to <paramref name="stage"/>.</summary>
    public static SymmetryCurriculum WithStage(this SymmetryCurriculum c, int stage)
    {
        for (long step = 1; c.Stage < stage; step++) c.Observe(1.0, step);
        return c;
    }
}

public class AccuracyWindowTests
{
    [Fact]
    public void Windows_are_consecutive_and_close_whether_or_not_they_reach_the_threshold()
    {
        var w = new AccuracyWindow(threshold: 0.5, window: 2);
        Assert.False(w.Add(0.4));
        Assert.False(w.Add(0.5));          // mean 0.45: closed, not reached
        Assert.Equal(0, w.Count);
        Assert.False(w.Add(1.0));
        Assert.True(w.Add(0.0));           // mean 0.5: reached
        Assert.False(w.Add(1.0));
        w.Clear();
        Assert.False(w.Add(0.0));          // the cleared 1.0 no longer counts
        Assert.False(w.Add(0.9));          // mean 0.45
        w.Restore(0.6, 1);
        Assert.True(w.Add(0.4));
        Assert.Throws<InvalidDataException>(() => w.Restore(1.0, 2));
        Assert.Throws<InvalidDataException>(() => w.Restore(double.NaN, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AccuracyWindow(1.5, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AccuracyWindow(0.5, 0));
    }
}
