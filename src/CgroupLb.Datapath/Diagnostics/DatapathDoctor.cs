using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Termination;
using CgroupLb.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Datapath.Diagnostics;

/// <summary>
/// `cgroup-lb doctor`: what this node offers the data path, checked the way `run` uses it. The BPF features come from
/// the loader's own probe (<see cref="ObjectLoader.Load"/> with unpinned maps: the same programs, the same knob
/// fallbacks), from the socket terminator's iterator object, and from one attach through a bpf_link to a scratch
/// child cgroup that doctor creates and removes. Doctor attaches nothing to the target cgroup, pins nothing, and only
/// reads the pinned state (it tries the pin directory's lock and lets it go at once, to say whether an agent holds it).
/// </summary>
public static class DatapathDoctor
{
    private const string Kernel = "kernel";
    private const string Host = "host";
    private const string Bpf = "bpf";
    private const string Pinned = "pinned";

    private static readonly IReadOnlyDictionary<string, string> HookNames = new Dictionary<string, string>
    {
        [ProgramCatalog.Connect4] = "cgroup/connect4",
        [ProgramCatalog.Sendmsg4] = "cgroup/sendmsg4",
        [ProgramCatalog.Recvmsg4] = "cgroup/recvmsg4",
        [ProgramCatalog.Getpeername4] = "cgroup/getpeername4",
        [ProgramCatalog.Connect6] = "cgroup/connect6",
        [ProgramCatalog.Sendmsg6] = "cgroup/sendmsg6",
        [ProgramCatalog.Recvmsg6] = "cgroup/recvmsg6",
        [ProgramCatalog.Getpeername6] = "cgroup/getpeername6",
    };

    public static DoctorReport Run(DatapathOptions options, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        var checks = new List<DoctorCheck>();
        string release = HostFacts.KernelRelease();
        Version? version = HostFacts.KernelVersion(release);
        checks.Add(new DoctorCheck(Kernel, "kernel release", version is null || version >= new Version(5, 10) ? DoctorStatus.Info : DoctorStatus.Warning, false, release)
        {
            Impact = version is not null && version < new Version(5, 10) ? "older than 5.10, the oldest kernel the project tests; the probes below say what works" : null,
        });
        bool root = Environment.IsPrivilegedProcess;
        checks.AddRange(HostChecks(options, root, version));
        bool cgroupUsable = checks.Any(c => c.Name == "target cgroup" && c.Status == DoctorStatus.Ok);
        checks.AddRange(root ? BpfChecks(options, cgroupUsable, logger) : [NotProbed("not root: BPF features cannot be probed")]);
        checks.AddRange(PinnedChecks(options, root));
        return new DoctorReport(options.CgroupPath, options.BpffsPath, checks);
    }

    private static IEnumerable<DoctorCheck> HostChecks(DatapathOptions options, bool root, Version? kernel)
    {
        var cgroup2 = HostFacts.MountsOf("cgroup2");
        yield return cgroup2.Count > 0
            ? new DoctorCheck(Host, "cgroup v2 mount", DoctorStatus.Ok, true, string.Join(", ", cgroup2))
            : new DoctorCheck(Host, "cgroup v2 mount", DoctorStatus.Missing, true, "no cgroup2 filesystem is mounted")
            {
                Impact = "the programs attach to a cgroup v2 directory; without one nothing is load-balanced",
                Fix = "mount -t cgroup2 none /sys/fs/cgroup (or boot with systemd.unified_cgroup_hierarchy=1)",
            };

        string? cgroupType = Directory.Exists(options.CgroupPath) ? MountTable.FileSystemTypeOf(options.CgroupPath) : null;
        yield return cgroupType == "cgroup2"
            ? new DoctorCheck(Host, "target cgroup", DoctorStatus.Ok, true, options.CgroupPath)
            : new DoctorCheck(Host, "target cgroup", DoctorStatus.Missing, true,
                cgroupType is null ? $"{options.CgroupPath} does not exist" : $"{options.CgroupPath} is on {cgroupType}, not cgroup2")
            {
                Impact = "run refuses to start: the programs have nowhere to attach",
                Fix = "pass --cgroup with a directory on the cgroup v2 mount (the node's root cgroup in a cluster)",
            };

        string? bpffsProblem = null;
        try
        {
            Preflight.CheckBpffs(options.BpffsPath);
        }
        catch (DatapathException e)
        {
            bpffsProblem = e.Message;
        }
        yield return bpffsProblem is null
            ? new DoctorCheck(Host, "bpffs", DoctorStatus.Ok, true, $"{options.BpffsPath} is on a BPF filesystem")
            : new DoctorCheck(Host, "bpffs", DoctorStatus.Missing, true, bpffsProblem)
            {
                Impact = "maps and links cannot be pinned: every restart would drop all services and attach again",
                Fix = "mount -t bpf bpf /sys/fs/bpf (in a pod: mount the host's /sys/fs/bpf)",
            };

        bool btf = KernelBtf.Present;
        bool kfunc = btf && KernelBtf.HasRdonlyCast;
        yield return new DoctorCheck(Host, "kernel BTF", kfunc ? DoctorStatus.Ok : DoctorStatus.Info, false,
            !btf ? $"no {KernelBtf.VmlinuxPath}" : kfunc ? KernelBtf.VmlinuxPath : $"{KernelBtf.VmlinuxPath}, without the {KernelBtf.RdonlyCastKfunc} kfunc")
        {
            Impact = kfunc ? null : $"small: the programs load from {EmbeddedObject.ResourceName}, which needs neither kernel BTF nor the kfunc, instead of {EmbeddedObject.KernelBtfResourceName} " +
                "(recvmsg, getpeername and accept of untranslated sockets then ask socket storage through a helper call, and connected sockets (TCP, connected UDP) keep their reverse entries there)" +
                (btf ? "" : "; the bpf_sock_destroy iterators need BTF and fall back to netlink"),
            Fix = kfunc ? null : btf ? "Linux 6.2 or newer" : "a kernel built with CONFIG_DEBUG_INFO_BTF=y (and Linux 6.2 or newer)",
        };

        ulong? caps = HostFacts.EffectiveCapabilities();
        foreach (var (name, bit) in HostFacts.Capabilities)
        {
            bool has = caps is { } set && (set & (1UL << bit)) != 0;
            bool required = name is "CAP_SYS_ADMIN" or "CAP_NET_ADMIN";
            // RLIMIT_MEMLOCK stopped mattering with memcg accounting of BPF memory (5.11): then CAP_SYS_RESOURCE is a fact, not a gap.
            bool matters = name != "CAP_SYS_RESOURCE" || kernel is null || kernel < new Version(5, 11);
            yield return new DoctorCheck(Host, name, has ? DoctorStatus.Ok : required ? DoctorStatus.Missing : matters ? DoctorStatus.Warning : DoctorStatus.Info, required,
                caps is null ? "CapEff unreadable" : has ? "effective" : "not effective")
            {
                Impact = has || !matters ? null : name switch
                {
                    "CAP_SYS_ADMIN" => "cannot load or attach cgroup BPF programs on kernels before 5.8, nor open pinned objects",
                    "CAP_NET_ADMIN" => "cannot attach to cgroups, nor close sockets of removed backends",
                    "CAP_BPF" => "on 5.8+ loading needs CAP_BPF or CAP_SYS_ADMIN",
                    "CAP_PERFMON" => "on 5.8+ pointer-reading programs need CAP_PERFMON or CAP_SYS_ADMIN",
                    _ => "RLIMIT_MEMLOCK cannot be raised on kernels before 5.11",
                },
                Fix = has || !matters ? null : "run as root (the chart runs the agent privileged)",
            };
        }
        if (!root)
            yield return new DoctorCheck(Host, "root", DoctorStatus.Missing, true, "not running as root")
            {
                Impact = "run refuses to start (it needs root to load, attach and pin)",
                Fix = "sudo cgroup-lb doctor / run the agent as root",
            };

        long? memlock = HostFacts.SoftLimit("Max locked memory");
        bool memcgAccounting = kernel is null || kernel >= new Version(5, 11);
        yield return new DoctorCheck(Host, "RLIMIT_MEMLOCK",
            memcgAccounting || memlock == -1 ? DoctorStatus.Ok : DoctorStatus.Warning, false,
            (memlock switch { null => "unreadable", -1 => "unlimited", { } bytes => $"{bytes} bytes" })
                + (memcgAccounting ? " (BPF memory is charged to the cgroup on 5.11+, the limit does not apply)" : ""))
        {
            Impact = memcgAccounting || memlock == -1 ? null : "before 5.11 maps count against it; libbpf raises it when it can (CAP_SYS_RESOURCE)",
            Fix = memcgAccounting || memlock == -1 ? null : "ulimit -l unlimited, or LimitMEMLOCK=infinity in the unit",
        };

        string? libbpf = HostFacts.LoadedLibbpf();
        yield return libbpf is null
            ? new DoctorCheck(Host, "libbpf", DoctorStatus.Missing, true, "libbpf.so.1 cannot be loaded")
            {
                Impact = "nothing BPF works: the agent loads its programs through libbpf",
                Fix = "apt-get install libbpf1 (Debian/Ubuntu); the image ships it",
            }
            : new DoctorCheck(Host, "libbpf", DoctorStatus.Ok, true, libbpf);
    }

    private static DoctorCheck NotProbed(string why) => new(Bpf, "BPF features", DoctorStatus.Missing, true, why)
    {
        Impact = "the kernel's BPF support is unknown",
        Fix = "run doctor as root",
    };

    private static IEnumerable<DoctorCheck> BpfChecks(DatapathOptions options, bool cgroupUsable, ILogger logger)
    {
        var checks = new List<DoctorCheck>();
        bool sockAddr = SafeProbe(() => DatapathFeatures.Probe().CgroupSockAddrPrograms);
        checks.Add(sockAddr
            ? new DoctorCheck(Bpf, "cgroup sock_addr programs", DoctorStatus.Ok, true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR loads")
            : new DoctorCheck(Bpf, "cgroup sock_addr programs", DoctorStatus.Missing, true, "the kernel refuses BPF_PROG_TYPE_CGROUP_SOCK_ADDR")
            {
                Impact = "no socket load balancing at all",
                Fix = "Linux 5.10 or newer with CONFIG_CGROUP_BPF=y and CONFIG_BPF_SYSCALL=y",
            });

        LoadedObject? loaded = null;
        string? loadError = null;
        try
        {
            loaded = ObjectLoader.Load(options, DatapathFeatures.Probe(), logger, pinMaps: false);
        }
        catch (Exception e) when (e is DatapathException or BpfException)
        {
            loadError = e.Message;
        }
        using (loaded)
        {
            foreach (var program in ProgramCatalog.All)
            {
                string hook = HookNames[program];
                checks.Add(loaded is not null
                    ? new DoctorCheck(Bpf, $"hook {hook}", DoctorStatus.Ok, true, $"{program} verified")
                    : new DoctorCheck(Bpf, $"hook {hook}", DoctorStatus.Missing, true, $"the program object did not load: {loadError}")
                    {
                        Impact = "run cannot load its programs",
                        Fix = "Linux 5.10 or newer; the libbpf log (--log-level Debug) names the refused instruction",
                    });
            }
            var features = loaded?.Features;
            checks.Add(Knob("bpf_set_retval", features?.SetRetval,
                "connects to a Service without endpoints fail with EPERM instead of ECONNREFUSED", "Linux 5.18 or newer"));
            checks.Add(Knob("socket storage (BPF_MAP_TYPE_SK_STORAGE in sock_addr programs)", features?.SocketStorage,
                $"reverse entries of translated sockets live in the LRU map {MapNames.ReverseSockets} until evicted, not with their socket",
                "Linux 5.11 or newer (bpf_sk_storage_get from sock_addr programs)"));
            // Without the kfunc in the kernel's BTF the loader takes the object that has no kfunc, so the knob is
            // never tried: the "kernel BTF" check above says what that costs.
            if (features?.SocketStorage != false && EmbeddedObject.KernelBtfObjectSuits)
            {
                checks.Add(Knob("bpf_rdonly_cast kfunc", features?.RdonlyCast,
                    "recvmsg, getpeername and accept of sockets the LB never translated ask socket storage through a helper call (about 30 ns more each), " +
                    $"and connected sockets (TCP, connected UDP) keep their reverse entries in socket storage instead of {MapNames.SocketClaims} and {MapNames.SocketClaims6}",
                    "Linux 6.2 or newer"));
                if (features?.RdonlyCast == true)
                {
                    const string storageImpact = "each translated connect (TCP, connected UDP) allocates socket storage: about 700 ns more, and 304 bytes of kernel memory while the socket is open";
                    string claimsName = $"connected sockets' reverse entries in {MapNames.SocketClaims} and {MapNames.SocketClaims6}";
                    checks.Add(features.SocketClaims == true
                        ? new DoctorCheck(Bpf, claimsName, DoctorStatus.Ok, false, $"{options.SocketClaimSlots} entries each ({LbMapPreallocation.Megabytes(ObjectLoader.SocketClaimBytes(options.SocketClaimSlots))}); socket storage where a live socket holds one")
                        : options.SocketClaimSlots == 0
                            ? new DoctorCheck(Bpf, claimsName, DoctorStatus.Info, false, "switched off (0 entries)") { Impact = storageImpact }
                            : new DoctorCheck(Bpf, claimsName, DoctorStatus.Warning, false, "refused by the verifier; the programs load without them")
                            {
                                Impact = storageImpact,
                                Fix = "the libbpf log (--log-level Debug) names the refused instruction",
                            });
                }
            }
            checks.Add(HelperCheck("netns cookie (bpf_get_netns_cookie)", 122,
                "`cgroup-lb trace` cannot tell network namespaces apart", "Linux 5.7 or newer"));
            checks.Add(MapTypeCheck("ring buffer (BPF_MAP_TYPE_RINGBUF)", BpfMapType.Ringbuf, 4096,
                "`cgroup-lb trace` has no event stream", "Linux 5.8 or newer"));
            checks.Add(loaded is not null && cgroupUsable
                ? LinkCheck(options, loaded)
                : new DoctorCheck(Bpf, "bpf_link for cgroups", DoctorStatus.Missing, true, "not probed: " + (loaded is null ? "the programs did not load" : "no usable target cgroup"))
                {
                    Impact = "run attaches through pinned bpf_links; without them it cannot attach",
                    Fix = "Linux 5.7 or newer",
                });
            checks.Add(IteratorCheck(loaded));
        }
        return checks;
    }

    private static DoctorCheck Knob(string name, bool? available, string impact, string fix) => available switch
    {
        true => new DoctorCheck(Bpf, name, DoctorStatus.Ok, false, "verified in the programs"),
        false => new DoctorCheck(Bpf, name, DoctorStatus.Warning, false, "refused by the verifier; the programs load without it") { Impact = impact, Fix = fix },
        null => new DoctorCheck(Bpf, name, DoctorStatus.Missing, false, "not probed: the programs did not load") { Impact = impact, Fix = fix },
    };

    private static DoctorCheck HelperCheck(string name, int helperId, string impact, string fix)
    {
        bool ok = SafeProbe(() => BpfFeatures.HelperAvailable(BpfProgramType.CgroupSockAddr, helperId));
        return ok
            ? new DoctorCheck(Bpf, name, DoctorStatus.Ok, false, "available to sock_addr programs")
            : new DoctorCheck(Bpf, name, DoctorStatus.Warning, false, "not available to sock_addr programs") { Impact = impact, Fix = fix };
    }

    private static DoctorCheck MapTypeCheck(string name, BpfMapType type, uint maxEntries, string impact, string fix)
    {
        try
        {
            using var map = BpfMapHandle.Create(type, "cglb_doctor", 0, 0, maxEntries);
            return new DoctorCheck(Bpf, name, DoctorStatus.Ok, false, "created a scratch map");
        }
        catch (BpfException e)
        {
            return new DoctorCheck(Bpf, name, DoctorStatus.Warning, false, e.Message) { Impact = impact, Fix = fix };
        }
    }

    /// <summary>Attaches connect4 through a bpf_link to a child cgroup created for the purpose, then removes both.</summary>
    private static DoctorCheck LinkCheck(DatapathOptions options, LoadedObject loaded)
    {
        string scratch = Path.Combine(options.CgroupPath, $"cgroup-lb-doctor-{Environment.ProcessId}");
        try
        {
            try
            {
                Directory.CreateDirectory(scratch);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A pod that mounts the host's cgroupfs read-only can attach (that needs only an fd) but not mkdir.
                return LinkEvidenceFromPins(options, e.Message);
            }
            using var cgroup = CgroupDirectory.Open(scratch);
            using var link = loaded.Object.GetProgram(ProgramCatalog.Connect4).AttachCgroup(cgroup.Handle);
            return new DoctorCheck(Bpf, "bpf_link for cgroups", DoctorStatus.Ok, true, "attached and detached on a scratch child cgroup");
        }
        catch (Exception e) when (e is BpfException or IOException or UnauthorizedAccessException)
        {
            return new DoctorCheck(Bpf, "bpf_link for cgroups", DoctorStatus.Missing, true, e.Message)
            {
                Impact = "run attaches through pinned bpf_links; without them it cannot attach",
                Fix = "Linux 5.7 or newer",
            };
        }
        finally
        {
            try
            {
                if (Directory.Exists(scratch))
                    Directory.Delete(scratch);
            }
            catch (IOException)
            {
                // The link's close is what lets rmdir succeed; a failure here leaves only an empty cgroup, named above.
            }
        }
    }

    /// <summary>
    /// Without a scratch cgroup to attach to, the pinned links are the evidence: a link pinned and attached to the
    /// target cgroup proves bpf_link works here. With none, the check cannot tell and says so rather than failing.
    /// </summary>
    private static DoctorCheck LinkEvidenceFromPins(DatapathOptions options, string whyNoScratch)
    {
        const string name = "bpf_link for cgroups";
        var pinned = Directory.Exists(options.LinksPath) ? PinnedLinks.Present(options) : [];
        if (pinned.Count > 0)
        {
            try
            {
                PinnedLinks.CheckAttachedTo(options, pinned);
                return new DoctorCheck(Bpf, name, DoctorStatus.Ok, true,
                    $"{pinned.Count} pinned links run on {options.CgroupPath} (no scratch cgroup to probe: {whyNoScratch})");
            }
            catch (Exception e) when (e is BpfException or IOException or DatapathException)
            {
                return new DoctorCheck(Bpf, name, DoctorStatus.Warning, true, $"pinned links found but not verified: {e.Message}")
                {
                    Impact = "run attaches through pinned bpf_links; without them it cannot attach",
                    Fix = "Linux 5.7 or newer",
                };
            }
        }
        return new DoctorCheck(Bpf, name, DoctorStatus.Warning, true, $"not probed: no scratch cgroup could be made ({whyNoScratch}) and no link is pinned")
        {
            Impact = "run attaches through pinned bpf_links; without them it cannot attach",
            Fix = "Linux 5.7 or newer; run doctor where the cgroup is writable to probe",
        };
    }

    /// <summary>The socket terminator's own probe: its iterator object loads (bpf_sock_destroy) on the probe's maps.</summary>
    private static DoctorCheck IteratorCheck(LoadedObject? loaded)
    {
        const string name = "socket iterators and bpf_sock_destroy";
        string impact = "sockets connected to a removed backend are closed through netlink SOCK_DESTROY instead "
            + "(only in namespaces the agent enters; needs CONFIG_INET_DIAG_DESTROY)";
        if (loaded is null)
            return new DoctorCheck(Bpf, name, DoctorStatus.Missing, false, "not probed: the programs did not load") { Impact = impact, Fix = "Linux 6.5 or newer" };
        try
        {
            using var reverse = loaded.Object.GetMap(MapNames.ReverseSockets).OpenHandle();
            using var frontends = loaded.Object.GetMap(MapNames.SocketFrontends).OpenHandle();
            using var reverse6 = loaded.Object.GetMap(MapNames.ReverseSockets6).OpenHandle();
            using var frontends6 = loaded.Object.GetMap(MapNames.SocketFrontends6).OpenHandle();
            using var claims = loaded.Object.GetMap(MapNames.SocketClaims).OpenHandle();
            using var claims6 = loaded.Object.GetMap(MapNames.SocketClaims6).OpenHandle();
            using var iterators = BpfIteratorTerminator.Load(reverse, frontends, claims, reverse6, frontends6, claims6, terminateTcp: true);
            return new DoctorCheck(Bpf, name, DoctorStatus.Ok, false, "iterator programs load and attach");
        }
        catch (Exception e) when (e is BpfException or DatapathException)
        {
            string netlink = NetlinkTerminator.Probe() is { } failure ? $"netlink fallback unavailable too: {failure}" : "netlink fallback works";
            return new DoctorCheck(Bpf, name, DoctorStatus.Warning, false, $"{e.Message}; {netlink}") { Impact = impact, Fix = "Linux 6.5 or newer" };
        }
    }

    private static IEnumerable<DoctorCheck> PinnedChecks(DatapathOptions options, bool root)
    {
        if (!Directory.Exists(options.BpffsPath))
        {
            yield return new DoctorCheck(Pinned, "pin directory", DoctorStatus.Info, false, $"{options.BpffsPath} does not exist: no agent has run with this --bpffs, or it was detached");
            yield break;
        }
        string holder;
        if (!root)
            holder = "unknown (not root)";
        else
        {
            using var free = PinDirectoryLock.TryAcquire(options.BpffsPath);
            holder = free is null ? $"held by {PinDirectoryLock.DescribeHolder(options.BpffsPath)}" : "free: no agent runs on it";
        }
        yield return new DoctorCheck(Pinned, "pin directory lock", DoctorStatus.Info, false, holder);

        var present = MapNames.All.Where(n => File.Exists(options.MapPinPath(n))).ToList();
        var stale = ProgramUpgrade.FindStaleMapPins(options);
        yield return new DoctorCheck(Pinned, "map ABI", present.Count == MapNames.All.Count || present.Count == 0 ? DoctorStatus.Info : DoctorStatus.Warning, false,
            $"{present.Count} of {MapNames.All.Count} maps of this build's ABI pinned ({MapNames.Services}, ...)"
            + (stale.Count > 0 ? $"; {stale.Count} pins of an older ABI ({string.Join(", ", stale.Select(Path.GetFileName))}), removed by the agent after its first full sync" : ""));

        var links = ProgramCatalog.All.Where(p => File.Exists(PinnedLinks.PathOf(options, p))).ToList();
        string attachedTo = links.Count == 0 ? "no links pinned" : $"{links.Count} of {ProgramCatalog.All.Count} links pinned";
        if (links.Count > 0 && root && AttachedCgroup(options) is { } where)
            attachedTo += $", attached to {where}";
        yield return new DoctorCheck(Pinned, "attached programs", DoctorStatus.Info, false, attachedTo);
        if (links.Count > 0 && root)
            yield return SocketLbModeCheck(options);
    }

    /// <summary>Which namespaces the pinned programs translate: their configuration, and lb_skip_netns's entries.</summary>
    private static DoctorCheck SocketLbModeCheck(DatapathOptions options)
    {
        const string name = "socket LB mode";
        try
        {
            var config = ProgramConfig.ReadPinned(options);
            string mode = config switch
            {
                null => "unknown (the pinned connect4 program has no readable configuration)",
                { HostNamespaceOnly: true } => "host-namespace-only: only sockets of the host network namespace are translated, pods are left to another data path",
                _ => "every network namespace in the cgroup (pods and host)",
            };
            string skipPin = options.MapPinPath(MapNames.SkipNetns);
            if (config is { NetnsExclusion: false })
                mode += $"; no network namespace excluded (loaded without --exclude-netns: {MapNames.SkipNetns} is not consulted)";
            else if (File.Exists(skipPin))
            {
                using var skip = BpfMapHandle.OpenPinned(skipPin);
                int excluded = skip.Keys<ulong>().Count();
                mode += excluded == 0 ? "; no network namespace excluded" : $"; {excluded} network namespaces excluded (--exclude-netns, {MapNames.SkipNetns})";
            }
            return new DoctorCheck(Pinned, name, DoctorStatus.Info, false, mode);
        }
        catch (Exception e) when (e is BpfException or IOException)
        {
            return new DoctorCheck(Pinned, name, DoctorStatus.Info, false, $"unreadable: {e.Message}");
        }
    }

    /// <summary>Where the pinned connect4 link runs: the target cgroup when it is there, else the first cgroup found under the cgroup2 mounts.</summary>
    private static string? AttachedCgroup(DatapathOptions options)
    {
        string pin = PinnedLinks.PathOf(options, ProgramCatalog.Connect4);
        if (!File.Exists(pin))
            return null;
        try
        {
            using var link = BpfLink.OpenPinned(pin);
            uint program = link.ProgramId;
            var candidates = new[] { options.CgroupPath }.Concat(HostFacts.MountsOf("cgroup2").SelectMany(m => CgroupsUnder(m, 5000)));
            foreach (string path in candidates.Where(Directory.Exists))
            {
                try
                {
                    using var cgroup = CgroupDirectory.Open(path);
                    if (cgroup.QueryAttachedPrograms(BpfAttachType.CgroupInet4Connect).Contains(program))
                        return path;
                }
                catch (BpfException)
                {
                }
            }
            return "no cgroup found (the cgroup was removed? run detach)";
        }
        catch (BpfException e)
        {
            return $"unknown ({e.Message})";
        }
    }

    private static IEnumerable<string> CgroupsUnder(string root, int limit)
    {
        var queue = new Queue<string>([root]);
        int seen = 0;
        while (queue.Count > 0 && seen++ < limit)
        {
            string dir = queue.Dequeue();
            yield return dir;
            IEnumerable<string> children;
            try
            {
                children = Directory.EnumerateDirectories(dir).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (string child in children)
                queue.Enqueue(child);
        }
    }

    private static bool SafeProbe(Func<bool> probe)
    {
        try
        {
            return probe();
        }
        catch (BpfException)
        {
            return false;
        }
    }
}
