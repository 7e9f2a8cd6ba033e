using System.Net.Sockets;
using CgroupLb.Datapath.Abi;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// A key of lb4_services_v2 or of lb6_services: the one key type the writer and <see cref="Status.MapSnapshot"/> use
/// for both families, so the master/slot logic is written once. Only the key of <see cref="IsIPv6"/>'s family is set.
/// </summary>
internal readonly struct ServiceEntryKey : IEquatable<ServiceEntryKey>, IComparable<ServiceEntryKey>
{
    public ServiceEntryKey(Lb4ServiceKey key) => V4 = key;

    public ServiceEntryKey(Lb6ServiceKey key)
    {
        V6 = key;
        IsIPv6 = true;
    }

    public Lb4ServiceKey V4 { get; }
    public Lb6ServiceKey V6 { get; }
    public bool IsIPv6 { get; }

    /// <summary>The master key (slot 0) of a frontend; throws for an address family no map holds.</summary>
    public static ServiceEntryKey Master(Frontend frontend) => frontend.Address.AddressFamily switch
    {
        AddressFamily.InterNetwork => new(Lb4ServiceKey.Create(frontend.Address, frontend.Port, (byte)frontend.Protocol, 0)),
        AddressFamily.InterNetworkV6 => new(Lb6ServiceKey.Create(frontend.Address, frontend.Port, (byte)frontend.Protocol, 0)),
        _ => throw new ArgumentException($"frontend {frontend} is neither IPv4 nor IPv6", nameof(frontend)),
    };

    public ushort BackendSlot => IsIPv6 ? V6.BackendSlot : V4.BackendSlot;

    public ServiceEntryKey WithSlot(ushort slot) => IsIPv6 ? new(V6.WithSlot(slot)) : new(V4.WithSlot(slot));

    public Frontend Frontend => IsIPv6
        ? new Frontend(V6.Address.Address, V6.Port, (L4Protocol)V6.Proto)
        : new Frontend(V4.Address, V4.Port, (L4Protocol)V4.Proto);

    public bool Equals(ServiceEntryKey other) =>
        IsIPv6 == other.IsIPv6 && (IsIPv6 ? V6.Equals(other.V6) : V4.Equals(other.V4));

    public override bool Equals(object? obj) => obj is ServiceEntryKey k && Equals(k);
    public override int GetHashCode() => IsIPv6 ? V6.GetHashCode() : V4.GetHashCode();
    public override string ToString() => IsIPv6 ? V6.ToString() : V4.ToString();

    /// <summary>IPv4 before IPv6 (as <see cref="AddressOrder"/>), then address bytes, port, protocol, scope and slot.</summary>
    public int CompareTo(ServiceEntryKey other)
    {
        if (IsIPv6 != other.IsIPv6)
            return IsIPv6 ? 1 : -1;
        int c;
        if (IsIPv6)
        {
            c = V6.Address.CompareTo(other.V6.Address);
            if (c != 0) return c;
            c = V6.Port.CompareTo(other.V6.Port);
            if (c != 0) return c;
            c = V6.Proto.CompareTo(other.V6.Proto);
            if (c != 0) return c;
            c = V6.Scope.CompareTo(other.V6.Scope);
            return c != 0 ? c : V6.BackendSlot.CompareTo(other.V6.BackendSlot);
        }
        c = HostOrder(V4.AddressBe).CompareTo(HostOrder(other.V4.AddressBe));
        if (c != 0) return c;
        c = V4.Port.CompareTo(other.V4.Port);
        if (c != 0) return c;
        c = V4.Proto.CompareTo(other.V4.Proto);
        if (c != 0) return c;
        c = V4.Scope.CompareTo(other.V4.Scope);
        return c != 0 ? c : V4.BackendSlot.CompareTo(other.V4.BackendSlot);
    }

    private static uint HostOrder(uint be32) => BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(be32) : be32;
}

/// <summary>
/// Service-map entries of both families collected for one write step: each family's entries go to its map in one
/// batch, IPv4 first. Kept between plans by the writer, so a steady state allocates nothing.
/// </summary>
internal sealed class ServiceEntryBatch
{
    public List<Lb4ServiceKey> Keys4 { get; } = [];
    public List<LbServiceValue> Values4 { get; } = [];
    public List<Lb6ServiceKey> Keys6 { get; } = [];
    public List<Lb6ServiceValue> Values6 { get; } = [];

    public int Count => Keys4.Count + Keys6.Count;

    /// <summary>Room for <paramref name="entries"/> IPv4 entries (the common family) without growing.</summary>
    public void EnsureCapacity(int entries)
    {
        Keys4.EnsureCapacity(entries);
        Values4.EnsureCapacity(entries);
    }

    public void AddKey(in ServiceEntryKey key)
    {
        if (key.IsIPv6)
            Keys6.Add(key.V6);
        else
            Keys4.Add(key.V4);
    }

    public void AddMaster(in ServiceEntryKey key, uint serviceId, ushort count, ServiceFlags flags, uint affinityTimeout)
    {
        AddKey(key);
        if (key.IsIPv6)
            Values6.Add(Lb6ServiceValue.Master(serviceId, count, flags, affinityTimeout));
        else
            Values4.Add(LbServiceValue.Master(serviceId, count, flags, affinityTimeout));
    }

    public void AddSlot(in ServiceEntryKey key, uint serviceId, uint backendId, Backend backend)
    {
        AddKey(key);
        if (key.IsIPv6)
            Values6.Add(Lb6ServiceValue.Slot(serviceId, backendId, backend));
        else
            Values4.Add(LbServiceValue.Slot(serviceId, backendId, backend));
    }

    public void Update(ILoadBalancerMaps maps)
    {
        if (Keys4.Count > 0)
            maps.UpdateServiceEntries(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Keys4), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Values4));
        if (Keys6.Count > 0)
            maps.UpdateServiceEntries6(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Keys6), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Values6));
    }

    public void Delete(ILoadBalancerMaps maps)
    {
        if (Keys4.Count > 0)
            maps.DeleteServiceEntries(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Keys4));
        if (Keys6.Count > 0)
            maps.DeleteServiceEntries6(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Keys6));
    }

    public void Clear()
    {
        Keys4.Clear();
        Values4.Clear();
        Keys6.Clear();
        Values6.Clear();
    }

    /// <summary>Entries the buffers hold room for.</summary>
    public int Capacity => Keys4.Capacity + Keys6.Capacity;

    /// <summary>Empties the buffers and gives their memory back.</summary>
    public void ClearAndTrim()
    {
        Clear();
        Keys4.TrimExcess();
        Values4.TrimExcess();
        Keys6.TrimExcess();
        Values6.TrimExcess();
    }
}
