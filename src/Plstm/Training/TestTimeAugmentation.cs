namespace Plstm.Training;

/// <summary>
/// Which symmetric views of each test image a prediction averages (<see cref="SymmetryAveraging"/>). Only for data whose
/// label the symmetries leave unchanged: arrow pointing is (mirroring or transposing the whole scene keeps the arrow
/// pointing at the circle, or not); Fashion-MNIST is not (a shoe upside down).
/// </summary>
public enum TestTimeAugmentation
{
    /// <summary>The image as given.</summary>
    None,

    /// <summary>Four views: as given, mirrored left–right, mirrored top–bottom, both (turned by 180°). Any image shape.</summary>
    Flips,

    /// <summary>The eight symmetries of the square (the four of <see cref="Flips"/> and the same after a transpose: the
    /// turns by ±90° and both diagonal mirrors). Square images only.</summary>
    Dihedral,
}

/// <summary>Names of <see cref="TestTimeAugmentation"/> in configurations and on the command line.</summary>
public static class TestTimeAugmentationNames
{
    /// <summary><c>none</c>, <c>flips</c> or <c>d4</c>.</summary>
    public static string ToName(this TestTimeAugmentation kind) => kind switch
    {
        TestTimeAugmentation.None => "none",
        TestTimeAugmentation.Flips => "flips",
        TestTimeAugmentation.Dihedral => "d4",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown test-time augmentation."),
    };

    /// <summary>Every name, in the enum's order: <c>none</c>, <c>flips</c>, <c>d4</c>.</summary>
    public static IReadOnlyList<string> All { get; } = Enum.GetValues<TestTimeAugmentation>().Select(ToName).ToArray();

    /// <summary>Parses <see cref="ToName"/>'s names (case and surrounding blanks ignored); false for any other.</summary>
    public static bool TryParse(string name, out TestTimeAugmentation kind)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Trim().ToLowerInvariant();
        foreach (var candidate in Enum.GetValues<TestTimeAugmentation>())
        {
            if (candidate.ToName() != key) continue;
            kind = candidate;
            return true;
        }
        kind = TestTimeAugmentation.None;
        return false;
    }

    /// <summary>Parses <see cref="ToName"/>'s names (case and surrounding blanks ignored).</summary>
    /// <exception cref="ArgumentException">Another name; the message lists the valid ones.</exception>
    public static TestTimeAugmentation Parse(string name) => TryParse(name, out var kind)
        ? kind
        : throw new ArgumentException($"Unknown test-time augmentation '{name}': use none, flips or d4.", nameof(name));
}
