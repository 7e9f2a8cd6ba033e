using System.Collections.Immutable;
using System.Net.Sockets;
using CgroupLb.Datapath.Abi;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// Applies plans to the load-balancer maps so that a concurrent connect() sees the old or the new backend set of a
/// frontend, never a slot that points nowhere:
/// <list type="number">
/// <item>backends the frontend gains are written first;</item>
/// <item>then its slots 1..n (each slot always names a backend of the old or the new set);</item>
/// <item>then the master entry with the new count, which is what makes a grown set visible;</item>
/// <item>slots beyond a shrunk count are deleted only after the master stopped pointing at them;</item>
/// <item>backends no frontend uses any more are deleted last, once per plan.</item>
/// </list>
/// A frontend is removed in reverse: master first (new connects pass untouched), then its slots.
/// Capacity is checked before anything is written, and a failed frontend is rolled back to what it held, so the maps
/// are never left half-written. Not thread-safe: one syncer owns it.
/// </summary>
internal sealed class BpfMapWriter : ILoadBalancerWriter
{
    private readonly ILoadBalancerMaps maps;
    private readonly ILogger logger;
    private readonly Dictionary<Frontend, AppliedFrontend> applied = [];
    private readonly BackendTable backends;
    private readonly IdAllocator serviceIds;
    private long serviceEntries;

    public BpfMapWriter(ILoadBalancerMaps maps, ILogger logger)
    {
        this.maps = maps;
        this.logger = logger;
        backends = new BackendTable(maps.BackendCapacity);
        serviceIds = new IdAllocator(1, maps.ServiceIdLimit - 1);
        Reload();
    }

    public int FrontendCount => applied.Count;
    public int BackendCount => backends.Count;
    public long ServiceEntryCount => serviceEntries;

    public IReadOnlyDictionary<Frontend, LoadBalancerService> ReadApplied()
    {
        // Re-read the kernel: a full sync must diff against what the maps hold, not against our memory of them.
        Reload();
        return applied.ToDictionary(kv => kv.Key, kv => kv.Value.Service);
    }

    public void Apply(LoadBalancerPlan plan)
    {
        try
        {
            foreach (var frontend in plan.Deletes)
                Delete(frontend);
            foreach (var service in plan.Upserts)
                Upsert(service);
        }
        finally
        {
            DeleteUnreferencedBackends();
        }
    }

    private void Upsert(LoadBalancerService service)
    {
        var frontend = service.Frontend;
        if (frontend.Address.AddressFamily != AddressFamily.InterNetwork)
            throw new MapWriteException(frontend, "only IPv4 frontends are supported by this data path");
        if (service.Backends.Length > LbLimits.MaxBackendSlots)
            throw new MapWriteException(frontend,
                $"{service.Backends.Length} backends exceed the limit of {LbLimits.MaxBackendSlots} per frontend");
        foreach (var b in service.Backends)
        {
            if (b.Address.AddressFamily != AddressFamily.InterNetwork)
                throw new MapWriteException(frontend, $"backend {b} is not IPv4");
        }

        applied.TryGetValue(frontend, out var old);
        if (old is not null && old.Service.Equals(service))
            return;

        long entriesAfter = serviceEntries - (old?.EntryCount ?? 0) + 1 + service.Backends.Length;
        if (entriesAfter > maps.ServiceEntryCapacity)
            throw new MapWriteException(frontend,
                $"lb4_services is full: {serviceEntries} of {maps.ServiceEntryCapacity} entries used, this frontend needs {1 + service.Backends.Length}");

        uint serviceId;
        bool newService = old is null;
        if (old is not null)
            serviceId = old.ServiceId;
        else if (!serviceIds.TryAllocate(out serviceId))
            throw new MapWriteException(frontend, $"no free service id (all {maps.ServiceIdLimit - 1} in use)");

        var key = Lb4ServiceKey.Create(frontend.Address, frontend.Port, (byte)frontend.Protocol, 0);
        var newIds = new uint[service.Backends.Length];
        var createdIds = new List<uint>();
        var createdValues = new List<Lb4Backend>();
        int acquired = 0;
        try
        {
            for (int i = 0; i < newIds.Length; i++)
            {
                var b = service.Backends[i];
                newIds[i] = backends.Acquire(b, out bool created);
                acquired++;
                if (created)
                {
                    createdIds.Add(newIds[i]);
                    createdValues.Add(Lb4Backend.Create(b.Address, b.Port, (byte)b.Protocol));
                }
            }

            // 1. Backends the frontend gains.
            if (createdIds.Count > 0)
                maps.UpdateBackends(createdIds.ToArray(), createdValues.ToArray());

            if (newService)
            {
                maps.ResetStats(serviceId);
                maps.WriteName(serviceId, service.Name);
            }
            else if (old!.Service.Name != service.Name)
            {
                maps.WriteName(serviceId, service.Name);
            }

            // 2. Slots 1..n that differ from what they hold now.
            WriteSlots(key, serviceId, old?.SlotBackendIds ?? [], newIds);

            // 3. The master entry: the new count becomes visible here. Unchanged (only slots moved): not rewritten.
            if (old is null || old.SlotBackendIds.Length != newIds.Length || old.Service.Flags != service.Flags
                || old.Service.AffinityTimeoutSeconds != service.AffinityTimeoutSeconds)
            {
                var master = LbServiceValue.Master(serviceId, (ushort)newIds.Length, service.Flags, service.AffinityTimeoutSeconds);
                maps.UpdateServiceEntries([key], [master]);
            }

            // 4. Slots beyond a shrunk count, now unreachable.
            if (old is not null && old.SlotBackendIds.Length > newIds.Length)
                maps.DeleteServiceEntries(SlotKeys(key, newIds.Length + 1, old.SlotBackendIds.Length));
        }
        catch (Exception ex)
        {
            for (int i = 0; i < acquired; i++)
                backends.Release(newIds[i]);
            RollBack(frontend, key, old, newService ? serviceId : 0, newIds.Length);
            throw ex as MapWriteException ?? new MapWriteException(frontend, ex.Message, ex);
        }

        if (old is not null)
        {
            foreach (uint id in old.SlotBackendIds)
                backends.Release(id);
        }
        else
        {
            serviceIds.MarkUsed(serviceId);
        }
        serviceEntries = entriesAfter;
        applied[frontend] = new AppliedFrontend(serviceId, newIds, service);
        logger.LogDebug("Programmed {Frontend} ({Service}) with {Count} backends as service id {ServiceId}",
            frontend, service.Name, newIds.Length, serviceId);
    }

    private void WriteSlots(Lb4ServiceKey key, uint serviceId, uint[] oldIds, uint[] newIds)
    {
        var keys = new List<Lb4ServiceKey>(newIds.Length);
        var values = new List<LbServiceValue>(newIds.Length);
        for (int i = 0; i < newIds.Length; i++)
        {
            if (i < oldIds.Length && oldIds[i] == newIds[i])
                continue;
            keys.Add(key.WithSlot((ushort)(i + 1)));
            values.Add(SlotValue(serviceId, newIds[i]));
        }
        if (keys.Count > 0)
            maps.UpdateServiceEntries(keys.ToArray(), values.ToArray());
    }

    /// <summary>A slot names its backend by id and carries a copy of its address, taken from the id's one backend.</summary>
    private LbServiceValue SlotValue(uint serviceId, uint backendId) =>
        backends.TryGetBackend(backendId, out var backend)
            ? LbServiceValue.Slot(serviceId, backendId, backend)
            : throw new InvalidOperationException($"backend id {backendId} is not in the backend table");

    /// <summary>
    /// Puts a frontend back to what it held before a failed upsert: the old slots and master, or nothing at all for a
    /// frontend that was new. If even that fails, the in-memory view is rebuilt from the kernel so the next full sync
    /// repairs whatever is left.
    /// </summary>
    private void RollBack(Frontend frontend, Lb4ServiceKey key, AppliedFrontend? old, uint newServiceId, int slotsTried)
    {
        try
        {
            if (old is null)
            {
                maps.DeleteServiceEntries([key]);
                maps.DeleteServiceEntries(SlotKeys(key, 1, slotsTried));
                if (newServiceId != 0)
                {
                    maps.DeleteName(newServiceId);
                    serviceIds.Release(newServiceId);
                }
                return;
            }
            var slotKeys = SlotKeys(key, 1, old.SlotBackendIds.Length);
            var slotValues = old.SlotBackendIds.Select(id => SlotValue(old.ServiceId, id)).ToArray();
            if (slotKeys.Length > 0)
                maps.UpdateServiceEntries(slotKeys, slotValues);
            var s = old.Service;
            maps.UpdateServiceEntries([key], [LbServiceValue.Master(old.ServiceId, (ushort)old.SlotBackendIds.Length, s.Flags, s.AffinityTimeoutSeconds)]);
            maps.DeleteServiceEntries(SlotKeys(key, old.SlotBackendIds.Length + 1, slotsTried));
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Rolling back {Frontend} failed; reloading state from the kernel maps", frontend);
            Reload();
        }
    }

    private void Delete(Frontend frontend)
    {
        if (!applied.TryGetValue(frontend, out var old))
            return;
        var key = Lb4ServiceKey.Create(frontend.Address, frontend.Port, (byte)frontend.Protocol, 0);
        try
        {
            // Master first: from here on new connects to the frontend pass untouched.
            maps.DeleteServiceEntries([key]);
            if (old.SlotBackendIds.Length > 0)
                maps.DeleteServiceEntries(SlotKeys(key, 1, old.SlotBackendIds.Length));
            maps.DeleteName(old.ServiceId);
        }
        catch (Exception ex) when (ex is not MapWriteException)
        {
            Reload();
            throw new MapWriteException(frontend, ex.Message, ex);
        }
        foreach (uint id in old.SlotBackendIds)
            backends.Release(id);
        serviceIds.Release(old.ServiceId);
        serviceEntries -= old.EntryCount;
        applied.Remove(frontend);
        logger.LogDebug("Removed {Frontend} ({Service})", frontend, old.Service.Name);
    }

    private void DeleteUnreferencedBackends()
    {
        var stale = backends.TakeUnreferenced();
        if (stale.Count == 0)
            return;
        try
        {
            maps.DeleteBackends(stale.ToArray());
        }
        catch (Exception ex)
        {
            // Harmless to leave them: no slot points at them. The next reload collects them again.
            logger.LogWarning(ex, "Deleting {Count} unused backends failed; they will be collected on the next full sync", stale.Count);
        }
    }

    private static Lb4ServiceKey[] SlotKeys(Lb4ServiceKey master, int firstSlot, int lastSlot)
    {
        if (lastSlot < firstSlot)
            return [];
        var keys = new Lb4ServiceKey[lastSlot - firstSlot + 1];
        for (int i = 0; i < keys.Length; i++)
            keys[i] = master.WithSlot((ushort)(firstSlot + i));
        return keys;
    }

    /// <summary>
    /// Rebuilds the writer's view from the kernel maps: what a restarted agent adopts. Slots without a master and
    /// backends no slot uses are leftovers of an interrupted writer; nothing can reach them, so they are deleted.
    /// A frontend whose slots or backends are missing is reported with what is there, so the planner rewrites it.
    /// </summary>
    private void Reload()
    {
        applied.Clear();
        backends.Clear();
        serviceIds.Clear();
        serviceEntries = 0;

        var backendValues = new Dictionary<uint, Lb4Backend>();
        foreach (var (id, value) in maps.ReadBackends())
        {
            backendValues[id] = value;
            backends.Adopt(id, new Backend(value.Address, value.Port, (L4Protocol)value.Proto));
        }

        var masters = new Dictionary<Lb4ServiceKey, LbServiceValue>();
        var slots = new Dictionary<Lb4ServiceKey, LbServiceValue>();
        foreach (var (key, value) in maps.ReadServiceEntries())
            (key.BackendSlot == 0 ? masters : slots)[key] = value;

        var orphanSlots = new HashSet<Lb4ServiceKey>(slots.Keys);
        foreach (var (key, master) in masters)
        {
            var frontend = new Frontend(key.Address, key.Port, (L4Protocol)key.Proto);
            var ids = new List<uint>(master.Count);
            var list = ImmutableArray.CreateBuilder<Backend>(master.Count);
            for (ushort slot = 1; slot <= master.Count; slot++)
            {
                var slotKey = key.WithSlot(slot);
                orphanSlots.Remove(slotKey);
                if (!slots.TryGetValue(slotKey, out var slotValue) || !backends.TryGetBackend(slotValue.BackendId, out var backend))
                {
                    // A hole: id 0 never matches a real backend, so the next upsert rewrites this slot.
                    ids.Add(0);
                    continue;
                }
                ids.Add(slotValue.BackendId);
                backends.AddReference(slotValue.BackendId);
                list.Add(backend);
            }
            // Slots past the count belong to this frontend but are unreachable; keep them counted so an upsert deletes them.
            for (int slot = master.Count + 1; slot <= LbLimits.MaxBackendSlots; slot++)
            {
                if (!orphanSlots.Remove(key.WithSlot((ushort)slot)))
                    break;
                maps.DeleteServiceEntries([key.WithSlot((ushort)slot)]);
            }
            var name = maps.ReadName(master.ServiceId) ?? "";
            var service = new LoadBalancerService(frontend, name, master.ServiceFlags,
                list.ToImmutable(), master.AffinityTimeout);
            serviceIds.MarkUsed(master.ServiceId);
            applied[frontend] = new AppliedFrontend(master.ServiceId, ids.ToArray(), service);
            serviceEntries += 1 + master.Count;
        }

        if (orphanSlots.Count > 0)
        {
            logger.LogInformation("Deleting {Count} service slots left without a master entry", orphanSlots.Count);
            maps.DeleteServiceEntries(orphanSlots.ToArray());
        }
        DeleteUnreferencedBackends();
    }
}
