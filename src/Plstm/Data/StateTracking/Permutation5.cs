namespace Plstm.Data.StateTracking;

/// <summary>
/// The 120 permutations of {0, …, 4} (the symmetric group S5) indexed 0 … 119 in lexicographic order of their one-line
/// notation <c>[p(0), p(1), p(2), p(3), p(4)]</c>: index 0 is the identity [0, 1, 2, 3, 4], index 1 is [0, 1, 2, 4, 3],
/// index 119 is [4, 3, 2, 1, 0]. Composition is the usual function composition, <c>(a ∘ b)(i) = a(b(i))</c>: b acts
/// first.
/// </summary>
/// <remarks>The product table is computed once (120 × 120 bytes); <see cref="Compose"/> is a table look-up, so the
/// generators stay cheap for long sequences.</remarks>
public static class Permutation5
{
    /// <summary>Number of elements permuted.</summary>
    public const int Degree = 5;

    /// <summary>Number of permutations, 5! = 120.</summary>
    public const int Count = 120;

    private static readonly int[][] OneLine = Enumerate();
    private static readonly Dictionary<int, int> IndexByCode = Enumerable.Range(0, Count).ToDictionary(i => Code(OneLine[i]));
    private static readonly byte[] Table = BuildTable();

    /// <summary>Index of the identity permutation.</summary>
    public const int Identity = 0;

    /// <summary>The one-line notation <c>[p(0), …, p(4)]</c> of permutation <paramref name="index"/> (a fresh copy).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in 0 … 119.</exception>
    public static int[] ToArray(int index)
    {
        CheckIndex(index, nameof(index));
        return (int[])OneLine[index].Clone();
    }

    /// <summary>The index of the permutation with one-line notation <paramref name="oneLine"/>.</summary>
    /// <exception cref="ArgumentException">Not a permutation of {0, …, 4}.</exception>
    public static int IndexOf(ReadOnlySpan<int> oneLine)
    {
        if (oneLine.Length != Degree)
            throw new ArgumentException($"A permutation of 5 elements has 5 entries, got {oneLine.Length}.", nameof(oneLine));
        int seen = 0;
        foreach (int v in oneLine)
        {
            if (v is < 0 or >= Degree || (seen & (1 << v)) != 0)
                throw new ArgumentException($"[{string.Join(", ", oneLine.ToArray())}] is not a permutation of 0…4.", nameof(oneLine));
            seen |= 1 << v;
        }
        return IndexByCode[Code(oneLine)];
    }

    /// <summary>The index of <c>a ∘ b</c> (apply <paramref name="b"/> first, then <paramref name="a"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is not in 0 … 119.</exception>
    public static int Compose(int a, int b)
    {
        CheckIndex(a, nameof(a));
        CheckIndex(b, nameof(b));
        return Table[a * Count + b];
    }

    /// <summary>The sign of permutation <paramref name="index"/>: +1 even, −1 odd (det of its permutation matrix).</summary>
    public static int Sign(int index)
    {
        CheckIndex(index, nameof(index));
        var p = OneLine[index];
        int inversions = 0;
        for (int i = 0; i < Degree; i++)
            for (int j = i + 1; j < Degree; j++)
                if (p[i] > p[j]) inversions++;
        return inversions % 2 == 0 ? 1 : -1;
    }

    private static void CheckIndex(int index, string name)
    {
        if (index is < 0 or >= Count)
            throw new ArgumentOutOfRangeException(name, index, "A permutation index must be in 0 … 119.");
    }

    private static int Code(ReadOnlySpan<int> p)
    {
        int code = 0;
        foreach (int v in p) code = code * Degree + v;
        return code;
    }

    private static int[][] Enumerate()
    {
        // Lexicographic order: generate all 5-tuples of distinct values by increasing code.
        var result = new List<int[]>(Count);
        var current = new int[Degree];
        void Fill(int position, int used)
        {
            if (position == Degree)
            {
                result.Add((int[])current.Clone());
                return;
            }
            for (int v = 0; v < Degree; v++)
            {
                if ((used & (1 << v)) != 0) continue;
                current[position] = v;
                Fill(position + 1, used | (1 << v));
            }
        }
        Fill(0, 0);
        return result.ToArray();
    }

    private static byte[] BuildTable()
    {
        var table = new byte[Count * Count];
        Span<int> composed = stackalloc int[Degree];
        for (int a = 0; a < Count; a++)
            for (int b = 0; b < Count; b++)
            {
                for (int i = 0; i < Degree; i++) composed[i] = OneLine[a][OneLine[b][i]];
                table[a * Count + b] = (byte)IndexByCode[Code(composed)];
            }
        return table;
    }
}
