namespace Plstm.Data;

/// <summary>
/// An image dataset whose labels do not change under the symmetries of the square, and which can say for each sample
/// which symmetry brings it into one canonical orientation. The symmetry curriculum
/// (<see cref="Training.SymmetryCurriculum"/>) starts training on canonically turned images and releases the
/// symmetries one by one.
/// </summary>
public interface ICanonicalOrientation
{
    /// <summary>The turn that brings sample <paramref name="index"/> into the canonical orientation.</summary>
    DihedralTurn CanonicalTurn(int index);
}
