using CgroupLb.Model.Services;

namespace CgroupLb.Model.Tests;

/// <summary>
/// The tracker's persistent map against a <see cref="Dictionary{TKey,TValue}"/> doing the same: bulk builds, removals
/// down to empty, keys of equal full hashes (chains) and of hashes that share their low bits (deep paths), and every
/// map handed out unchanged by the builders that came after it.
/// </summary>
public class PersistentHashMapTests
{
    /// <summary>A key whose hash the test chooses.</summary>
    private readonly record struct Key(int Id, int Hash)
    {
        public bool Equals(Key other) => Id == other.Id;
        public override int GetHashCode() => Hash;
    }

    private static void AssertEqual(Dictionary<Key, int> expected, PersistentHashMap<Key, int> map)
    {
        Assert.Equal(expected.Count, map.Count);
        Assert.Equal(expected.Count == 0, map.IsEmpty);
        var seen = new Dictionary<Key, int>();
        foreach ((Key key, int value) in map) seen.Add(key, value);
        Assert.Equal(expected, seen);
        foreach ((Key key, int value) in expected)
        {
            Assert.True(map.TryGetValue(key, out int found), $"{key} missing");
            Assert.Equal(value, found);
        }
    }

    [Theory]
    [InlineData("spread")]
    [InlineData("colliding")]
    [InlineData("low bits shared")]
    public void RandomSetsAndRemovesAgreeWithADictionaryAndEveryMapStaysAsItWas(string hashes)
    {
        var random = new Random(hashes.Length);
        Func<int, int> hashOf = hashes switch
        {
            "spread" => id => HashCode.Combine(id),
            // 8 full hashes for every key: long chains.
            "colliding" => id => id % 8 * 0x3F1F_0F07,
            // Equal in the low 25 bits: every path goes 5 levels deep before the keys part.
            _ => id => (id << 25) | 0x0AB_CDEF,
        };
        var expected = new Dictionary<Key, int>();
        var map = PersistentHashMap<Key, int>.Empty;
        var handedOut = new List<(PersistentHashMap<Key, int> Map, Dictionary<Key, int> Content)>();
        for (int round = 0; round < 60; round++)
        {
            var builder = map.ToBuilder();
            // A bulk first round, then rounds of a few changes, some of them removing most keys.
            int changes = round == 0 ? 3000 : random.Next(1, round % 10 == 9 ? 2000 : 20);
            for (int c = 0; c < changes; c++)
            {
                int id = random.Next(round % 10 == 9 ? 400 : 4000);
                var key = new Key(id, hashOf(id));
                if (random.Next(3) == 0 || round % 10 == 9)
                {
                    Assert.Equal(expected.Remove(key), builder.Remove(key));
                }
                else
                {
                    int value = random.Next();
                    expected[key] = value;
                    builder[key] = value;
                }
                Assert.Equal(expected.Count, builder.Count);
            }
            map = builder.ToImmutable();
            AssertEqual(expected, map);
            handedOut.Add((map, new Dictionary<Key, int>(expected)));
            // The same builder goes on without touching the map it handed out.
            builder[new Key(-1, 0)] = round;
            Assert.False(map.ContainsKey(new Key(-1, 0)));
        }
        foreach ((PersistentHashMap<Key, int> old, Dictionary<Key, int> content) in handedOut)
            AssertEqual(content, old);
    }

    [Fact]
    public void RemovingEveryKeyGivesTheEmptyMapAndAnUnchangedBuilderGivesTheSameMap()
    {
        var builder = PersistentHashMap<Key, int>.Empty.ToBuilder();
        for (int id = 0; id < 500; id++) builder[new Key(id, id * 31)] = id;
        var full = builder.ToImmutable();
        Assert.Same(full, builder.ToImmutable());
        Assert.Same(full, full.ToBuilder().ToImmutable());
        Assert.False(builder.Remove(new Key(1000, 7)));
        Assert.Same(full, builder.ToImmutable());

        for (int id = 0; id < 500; id++) Assert.True(builder.Remove(new Key(id, id * 31)));
        Assert.Same(PersistentHashMap<Key, int>.Empty, builder.ToImmutable());
        Assert.Equal(500, full.Count);
        Assert.Equal(499, full[new Key(499, 499 * 31)]);
        Assert.Throws<KeyNotFoundException>(() => PersistentHashMap<Key, int>.Empty[new Key(1, 1)]);
    }
}
