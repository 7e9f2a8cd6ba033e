using System.Net;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// Which backends a plan leaves unreferenced: exactly those whose last reference went (or that were adopted with
/// none), whatever else the table holds, and never one that was taken again or discarded in the meantime.
/// </summary>
public sealed class BackendTableTests
{
    private static Backend Pod(int host, ushort port = 8080) => new(IPAddress.Parse($"198.18.1.{host}"), port, L4Protocol.Tcp);

    private static Backend Pod6(int host) => new(IPAddress.Parse($"2001:db8::{host:x}"), 8080, L4Protocol.Tcp);

    private static uint Acquire(BackendTable table, Backend backend)
    {
        Assert.True(table.TryAcquire(backend, out uint id, out _));
        return id;
    }

    [Fact]
    public void OnlyBackendsWhoseLastReferenceWentAreTakenAndOnlyOnce()
    {
        var table = new BackendTable(1000);
        var ids = Enumerable.Range(1, 100).Select(i => Acquire(table, Pod(i))).ToArray();
        uint shared = Acquire(table, Pod(1)); // a second frontend uses pod 1
        Assert.Equal(ids[0], shared);

        table.Release(ids[0]); // pod 1 still has a reference
        table.Release(ids[1]);
        table.Release(ids[2]);

        Assert.Equal([ids[1], ids[2]], table.TakeUnreferenced(out var ipv6));
        Assert.Empty(ipv6);
        Assert.Equal(98, table.Count);
        Assert.Empty(table.TakeUnreferenced(out _));
    }

    [Fact]
    public void ABackendTakenAgainInTheSamePlanKeepsItsIdAndStays()
    {
        var table = new BackendTable(1000);
        uint id = Acquire(table, Pod(7));
        table.Release(id);
        Assert.Equal(id, Acquire(table, Pod(7)));

        Assert.Empty(table.TakeUnreferenced(out _));
        Assert.True(table.Contains(id));
    }

    [Fact]
    public void ADiscardedIdThatIsReusedIsNotTaken()
    {
        var table = new BackendTable(1000);
        uint first = Acquire(table, Pod(1));
        table.Release(first);
        table.Discard(first);
        uint reused = Acquire(table, Pod(2));

        var stale = table.TakeUnreferenced(out _);

        Assert.DoesNotContain(reused, stale);
        Assert.True(table.TryGetBackend(reused, out var backend) && backend == Pod(2));
    }

    [Fact]
    public void AnAdoptedBackendNoFrontendReferencesIsTakenByFamily()
    {
        var table = new BackendTable(1000);
        table.Adopt(5, Pod(5));
        table.Adopt(6, Pod(6));
        table.Adopt(9, Pod6(9));
        table.AddReference(6);

        var stale = table.TakeUnreferenced(out var ipv6);

        Assert.Equal([5u], stale);
        Assert.Equal([9u], ipv6);
        Assert.True(table.Contains(6));
    }

    [Fact]
    public void AFullTableRefusesANewBackendAndKeepsNoTraceOfItButStillSharesKnownOnes()
    {
        var table = new BackendTable(2);
        uint a = Acquire(table, Pod(1));
        Acquire(table, Pod(2));

        Assert.False(table.TryAcquire(Pod(3), out uint id, out bool created));
        Assert.Equal(0u, id);
        Assert.False(created);
        Assert.Equal(2, table.Count);
        Assert.True(table.TryAcquire(Pod(1), out uint shared, out created));
        Assert.Equal(a, shared);
        Assert.False(created);
    }

    [Fact]
    public void IdsMoveForwardPastReleasedAndAdoptedOnes()
    {
        var table = new BackendTable(1000);
        table.Adopt(2, Pod(2));
        table.AddReference(2);
        uint first = Acquire(table, Pod(1));
        table.Release(first);
        Assert.Equal([first], table.TakeUnreferenced(out _));

        uint next = Acquire(table, Pod(3));

        Assert.Equal(1u, first);
        Assert.Equal(3u, next); // 2 is adopted, 1 was just given back: neither is handed out again
        Assert.True(table.TryGetBackend(2, out var adopted) && adopted == Pod(2));
    }

    [Fact]
    public void CountsFollowEveryAcquireAndRelease()
    {
        var table = new BackendTable(1000);
        uint id = Acquire(table, Pod(1));
        Acquire(table, Pod(1));
        Acquire(table, Pod(1));

        table.Release(id);
        table.Release(id);
        Assert.Empty(table.TakeUnreferenced(out _));
        table.Release(id);

        Assert.Equal([id], table.TakeUnreferenced(out _));
        Assert.False(table.Contains(id));
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void AnIdOutsideTheRangeIsNotAdopted()
    {
        var table = new BackendTable(1000);
        Assert.Throws<ArgumentOutOfRangeException>(() => table.Adopt(0, Pod(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.Adopt(1001, Pod(1))); // beyond the backend arrays
        Assert.Throws<ArgumentOutOfRangeException>(() => table.Adopt(uint.MaxValue, Pod(1)));
        table.Adopt(1000, Pod(1));
    }

    [Fact]
    public void IdsStayInsideTheArraysAndWrapWithoutReusingTheOneJustFreed()
    {
        // Ids index lb4/lb6_backends_v2 (capacity + 1 entries, index 0 unused): a table that keeps moving its cursor
        // forward must wrap inside them.
        var table = new BackendTable(3);
        uint held = Acquire(table, Pod(100));
        uint previous = 0;
        var seen = new HashSet<uint>();
        for (int host = 1; host <= 12; host++)
        {
            uint id = Acquire(table, Pod(host));
            Assert.InRange(id, 1u, 3u);
            Assert.NotEqual(held, id);
            Assert.NotEqual(previous, id);
            seen.Add(id);
            table.Release(id);
            Assert.Equal([id], table.TakeUnreferenced(out _));
            previous = id;
        }
        Assert.Equal(2, seen.Count); // both free ids, in turn
    }

    [Fact]
    public void BackendsShareAnIdExactlyWhenTheyAreEqual()
    {
        // IPv4 backends are looked up by a packed integer key: address, port and protocol must each tell them apart,
        // equal addresses in different objects must not, and an IPv4 address is not its v4-mapped IPv6 twin.
        var table = new BackendTable(1000);
        var v4 = new Backend(IPAddress.Parse("198.18.1.1"), 8080, L4Protocol.Tcp);
        var sameInAnotherObject = new Backend(new IPAddress([198, 18, 1, 1]), 8080, L4Protocol.Tcp);
        var others = new[]
        {
            v4 with { Port = 8081 },
            v4 with { Port = 8080 + 65536 / 2 },
            v4 with { Protocol = L4Protocol.Udp },
            v4 with { Address = IPAddress.Parse("198.18.1.2") },
            v4 with { Address = IPAddress.Parse("199.18.1.1") },
            v4 with { Address = IPAddress.Parse("::ffff:198.18.1.1") },
        };

        uint id = Acquire(table, v4);
        Assert.Equal(id, Acquire(table, sameInAnotherObject));
        var otherIds = others.Select(b => Acquire(table, b)).ToArray();
        Assert.Equal(1 + others.Length, otherIds.Append(id).Distinct().Count());
        Assert.Equal(1 + others.Length, table.Count);
        for (int i = 0; i < others.Length; i++)
        {
            Assert.True(table.TryGetBackend(otherIds[i], out var back));
            Assert.Equal(others[i], back);
        }

        // Two references on the shared one: the first release keeps it, the second leaves it unreferenced.
        table.Release(id);
        Assert.Empty(table.TakeUnreferenced(out _));
        table.Release(id);
        Assert.Equal([id], table.TakeUnreferenced(out var ipv6));
        Assert.Empty(ipv6);
        table.Release(otherIds[^1]);
        Assert.Empty(table.TakeUnreferenced(out ipv6));
        Assert.Equal([otherIds[^1]], ipv6);
        Assert.Equal(others.Length - 1, table.Count);
    }
}
