using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace CgroupLb.Model.Services;

/// <summary>
/// An immutable hash map (a hash array mapped trie: 32-way nodes indexed by 5 bits of the hash, bitmap-compressed)
/// for the tracker's snapshots. Like <see cref="System.Collections.Immutable.ImmutableDictionary{TKey,TValue}"/> a
/// change copies only the path to the entry, so a snapshot handed out never changes and a partial checkout costs
/// O(changes x depth); unlike it, the depth is log32 (4 levels at 50k, against about 17 of an AVL tree), and a
/// <see cref="Builder"/> changes the nodes it made itself in place, so a first checkout of N entries into an empty map
/// allocates about one entry and a share of a node per entry and walks 4 levels per insert.
/// Entries with the same full hash share a slot as a short chain.
/// </summary>
public sealed class PersistentHashMap<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : notnull
{
    public static readonly PersistentHashMap<TKey, TValue> Empty = new(null, 0);

    private const int Bits = 5;
    private const int Mask = (1 << Bits) - 1;

    private readonly Node? root;

    private PersistentHashMap(Node? root, int count)
    {
        this.root = root;
        Count = count;
    }

    public int Count { get; }

    public bool IsEmpty => Count == 0;

    public TValue this[TKey key] => TryGetValue(key, out TValue? value) ? value : throw new KeyNotFoundException($"{key} is not in the map");

    public IEnumerable<TKey> Keys
    {
        get
        {
            foreach (KeyValuePair<TKey, TValue> pair in this) yield return pair.Key;
        }
    }

    public IEnumerable<TValue> Values
    {
        get
        {
            foreach (KeyValuePair<TKey, TValue> pair in this) yield return pair.Value;
        }
    }

    public bool ContainsKey(TKey key) => TryGetValue(key, out _);

    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value) => TryFind(root, key, out value);

    public Builder ToBuilder() => new(this);

    /// <summary>A map of the pairs (a later pair replaces an earlier one of the same key).</summary>
    public static PersistentHashMap<TKey, TValue> From(IEnumerable<KeyValuePair<TKey, TValue>> pairs)
    {
        Builder builder = Empty.ToBuilder();
        foreach ((TKey key, TValue value) in pairs) builder[key] = value;
        return builder.ToImmutable();
    }

    public Enumerator GetEnumerator() => new(root);

    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static int Hash(TKey key) => EqualityComparer<TKey>.Default.GetHashCode(key);

    private static int SlotOf(int hash, int shift) => (hash >>> shift) & Mask;

    private static bool TryFind(Node? node, TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        int hash = Hash(key);
        for (int shift = 0; node is not null; shift += Bits)
        {
            uint bit = 1u << SlotOf(hash, shift);
            if ((node.Bitmap & bit) == 0) break;
            object slot = node.Slots[BitOperations.PopCount(node.Bitmap & (bit - 1))]!;
            if (slot is Entry entry)
            {
                if (entry.Hash != hash) break;
                for (Entry? e = entry; e is not null; e = e.Next)
                {
                    if (EqualityComparer<TKey>.Default.Equals(e.Key, key))
                    {
                        value = e.Value;
                        return true;
                    }
                }
                break;
            }
            node = (Node)slot;
        }
        value = default;
        return false;
    }

    /// <summary>
    /// Changes a map into a new one. Nodes this builder made since its last <see cref="ToImmutable"/> are changed in
    /// place; every other node (of a map handed out) is copied first, so no map handed out ever changes.
    /// </summary>
    public sealed class Builder
    {
        private PersistentHashMap<TKey, TValue> origin;
        private Node? root;
        private int count;
        private bool changed;
        // The nodes whose Owner is this token belong to this builder alone; a new token after ToImmutable.
        private object owner = new();

        internal Builder(PersistentHashMap<TKey, TValue> map)
        {
            origin = map;
            root = map.root;
            count = map.Count;
        }

        public int Count => count;

        public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value) => TryFind(root, key, out value);

        public TValue this[TKey key]
        {
            get => TryGetValue(key, out TValue? value) ? value : throw new KeyNotFoundException($"{key} is not in the map");
            set
            {
                int hash = Hash(key);
                var entry = new Entry(hash, key, value, null);
                bool added = root is null;
                root = root is null ? Node.Single(SlotOf(hash, 0), entry, owner) : Set(root, 0, entry, owner, ref added);
                if (added) count++;
                changed = true;
            }
        }

        /// <summary>Removes the key; false when it was not there.</summary>
        public bool Remove(TKey key)
        {
            if (root is null) return false;
            bool removed = false;
            root = RemoveFrom(root, 0, Hash(key), key, owner, ref removed);
            if (!removed) return false;
            count--;
            changed = true;
            return true;
        }

        /// <summary>The map as it stands; the same instance as the last one when nothing changed since.</summary>
        public PersistentHashMap<TKey, TValue> ToImmutable()
        {
            if (!changed) return origin;
            owner = new object();
            changed = false;
            origin = count == 0 ? Empty : new PersistentHashMap<TKey, TValue>(root, count);
            return origin;
        }
    }

    private static Node Set(Node node, int shift, Entry entry, object owner, ref bool added)
    {
        uint bit = 1u << SlotOf(entry.Hash, shift);
        int index = BitOperations.PopCount(node.Bitmap & (bit - 1));
        if ((node.Bitmap & bit) == 0)
        {
            added = true;
            return node.Insert(index, bit, entry, owner);
        }
        object slot = node.Slots[index]!;
        if (slot is Node child)
        {
            Node newChild = Set(child, shift + Bits, entry, owner, ref added);
            return ReferenceEquals(newChild, child) ? node : node.Replace(index, newChild, owner);
        }
        var existing = (Entry)slot;
        if (existing.Hash == entry.Hash)
            return node.Replace(index, Chain.Set(existing, entry, ref added), owner);
        added = true;
        return node.Replace(index, Pair(shift + Bits, existing, entry, owner), owner);
    }

    /// <summary>A node holding two slots of different hashes (they differ in some 5 bits at or below this shift).</summary>
    private static Node Pair(int shift, Entry a, Entry b, object owner)
    {
        int slotA = SlotOf(a.Hash, shift), slotB = SlotOf(b.Hash, shift);
        if (slotA == slotB) return Node.Single(slotA, Pair(shift + Bits, a, b, owner), owner);
        object?[] slots = slotA < slotB ? [a, b] : [b, a];
        return new Node((1u << slotA) | (1u << slotB), slots, owner);
    }

    private static Node? RemoveFrom(Node node, int shift, int hash, TKey key, object owner, ref bool removed)
    {
        uint bit = 1u << SlotOf(hash, shift);
        if ((node.Bitmap & bit) == 0) return node;
        int index = BitOperations.PopCount(node.Bitmap & (bit - 1));
        object slot = node.Slots[index]!;
        if (slot is Node child)
        {
            Node? newChild = RemoveFrom(child, shift + Bits, hash, key, owner, ref removed);
            if (ReferenceEquals(newChild, child)) return node;
            return newChild is null ? node.RemoveAt(index, bit, owner) : node.Replace(index, newChild, owner);
        }
        var entry = (Entry)slot;
        if (entry.Hash != hash) return node;
        Entry? rest = Chain.Remove(entry, key, ref removed);
        if (!removed) return node;
        return rest is null ? node.RemoveAt(index, bit, owner) : node.Replace(index, rest, owner);
    }

    /// <summary>One key and value, and the entries of the same hash (rare) after it. Never changed once made.</summary>
    internal sealed class Entry(int hash, TKey key, TValue value, Entry? next)
    {
        public readonly int Hash = hash;
        public readonly TKey Key = key;
        public readonly TValue Value = value;
        public readonly Entry? Next = next;
    }

    private static class Chain
    {
        public static Entry Set(Entry chain, Entry entry, ref bool added)
        {
            for (Entry? e = chain; e is not null; e = e.Next)
            {
                if (EqualityComparer<TKey>.Default.Equals(e.Key, entry.Key))
                    return Rebuilt(chain, e, new Entry(entry.Hash, entry.Key, entry.Value, e.Next))!;
            }
            added = true;
            return new Entry(entry.Hash, entry.Key, entry.Value, chain);
        }

        public static Entry? Remove(Entry chain, TKey key, ref bool removed)
        {
            for (Entry? e = chain; e is not null; e = e.Next)
            {
                if (EqualityComparer<TKey>.Default.Equals(e.Key, key))
                {
                    removed = true;
                    return Rebuilt(chain, e, e.Next);
                }
            }
            return chain;
        }

        /// <summary>The chain with <paramref name="replaced"/> and what follows it swapped for <paramref name="tail"/>.</summary>
        private static Entry? Rebuilt(Entry chain, Entry replaced, Entry? tail)
        {
            if (ReferenceEquals(chain, replaced)) return tail;
            return new Entry(chain.Hash, chain.Key, chain.Value, Rebuilt(chain.Next!, replaced, tail));
        }
    }

    /// <summary>
    /// Up to 32 slots, present ones flagged in <see cref="Bitmap"/> and stored in order; a slot is an
    /// <see cref="Entry"/> chain or a child node. A node owned by a builder may have spare room after its slots.
    /// </summary>
    internal sealed class Node(uint bitmap, object?[] slots, object? owner)
    {
        public uint Bitmap = bitmap;
        public object?[] Slots = slots;
        private readonly object? owner = owner;

        public int SlotCount => BitOperations.PopCount(Bitmap);

        public static Node Single(int slot, object item, object owner) => new(1u << slot, [item], owner);

        public Node Insert(int index, uint bit, object item, object owner)
        {
            int count = SlotCount;
            if (ReferenceEquals(this.owner, owner))
            {
                if (Slots.Length == count)
                {
                    var grown = new object?[Math.Min(32, Math.Max(2, count * 2))];
                    Array.Copy(Slots, grown, count);
                    Slots = grown;
                }
                Array.Copy(Slots, index, Slots, index + 1, count - index);
                Slots[index] = item;
                Bitmap |= bit;
                return this;
            }
            var slots = new object?[count + 1];
            Array.Copy(Slots, slots, index);
            slots[index] = item;
            Array.Copy(Slots, index, slots, index + 1, count - index);
            return new Node(Bitmap | bit, slots, owner);
        }

        public Node Replace(int index, object item, object owner)
        {
            if (ReferenceEquals(this.owner, owner))
            {
                Slots[index] = item;
                return this;
            }
            var slots = new object?[SlotCount];
            Array.Copy(Slots, slots, slots.Length);
            slots[index] = item;
            return new Node(Bitmap, slots, owner);
        }

        /// <summary>The node without the slot; null when it was the last.</summary>
        public Node? RemoveAt(int index, uint bit, object owner)
        {
            int count = SlotCount;
            if (count == 1) return null;
            if (ReferenceEquals(this.owner, owner))
            {
                Array.Copy(Slots, index + 1, Slots, index, count - index - 1);
                Slots[count - 1] = null;
                Bitmap &= ~bit;
                return this;
            }
            var slots = new object?[count - 1];
            Array.Copy(Slots, slots, index);
            Array.Copy(Slots, index + 1, slots, index, count - index - 1);
            return new Node(Bitmap & ~bit, slots, owner);
        }
    }

    /// <summary>Every entry, in hash order; allocates only its path stack (7 levels cover 32 bits of hash).</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
    {
        private const int MaxDepth = 7;
        private readonly Node? root;
        private Node[]? nodes;
        private int[]? positions;
        private int depth;
        private Entry? entry;

        internal Enumerator(Node? root)
        {
            this.root = root;
            depth = -1;
        }

        public readonly KeyValuePair<TKey, TValue> Current => new(entry!.Key, entry.Value);

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (entry?.Next is { } next)
            {
                entry = next;
                return true;
            }
            if (nodes is null)
            {
                if (root is null) return false;
                nodes = new Node[MaxDepth];
                positions = new int[MaxDepth];
                nodes[0] = root;
                depth = 0;
            }
            while (depth >= 0)
            {
                Node node = nodes[depth];
                int position = positions![depth];
                if (position >= node.SlotCount)
                {
                    depth--;
                    continue;
                }
                positions[depth] = position + 1;
                object slot = node.Slots[position]!;
                if (slot is Entry found)
                {
                    entry = found;
                    return true;
                }
                depth++;
                nodes[depth] = (Node)slot;
                positions[depth] = 0;
            }
            entry = null;
            return false;
        }

        public void Reset()
        {
            nodes = null;
            positions = null;
            depth = -1;
            entry = null;
        }

        public readonly void Dispose()
        {
        }
    }
}
