using System.Diagnostics;
using CgroupLb.Benchmarks.Sync;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Manifests;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using k8s.Models;

namespace CgroupLb.Benchmarks.Sources;

/// <summary>
/// `--manifests N [endpoints] [repeats]`: where the manifest source's first read of one file of N Services + N
/// EndpointSlices goes, phase by phase, each timed alone over the whole file (thread CPU): reading and decoding the
/// bytes, splitting into documents, the YAML parse of every document and the full per-document parse (YAML, typed
/// decoding, validation), each both through YamlDotNet (the fallback, and the only path before the subset parser)
/// and through <see cref="BlockYamlParser"/>, the latter decoded both through JSON and by <see cref="ManifestDirectDecoder"/>,
/// interleaved in one process; then the reader end to end with a fresh cache, reconciling, tracking (the
/// <see cref="ClusterChangeTracker"/> the agent feeds) and the first full sync into an in-memory writer; then the GC
/// heap holding reader, reconciler and tracker, and an edit of one Service's file. A probe for profiling, not a
/// benchmark: read ratios between its rows, and repeat it.
/// </summary>
internal static class ManifestBreakdown
{
    public static void Run(int services, int endpoints, int repeats)
    {
        var directory = Directory.CreateTempSubdirectory("cglb-bench-manifests-").FullName;
        try
        {
            var file = Path.Join(directory, "services.yaml");
            var originalFile = Path.Join(directory, "original");
            var editedFile = Path.Join(directory, "edited");
            // Written once and dropped, so the workload does not sit in the heap the reader is measured in.
            {
                var cluster = SyntheticCluster.Create(services, endpoints, endpoints);
                File.WriteAllText(originalFile, ManifestText.Of(cluster));
                File.WriteAllText(editedFile, ManifestText.Of(cluster, new HashSet<int> { services / 2 }));
            }

            File.Copy(originalFile, file, overwrite: true);
            Console.WriteLine($"manifest source: one file of {services} Services + {services} EndpointSlices x {endpoints} endpoints " +
                $"({new FileInfo(file).Length / 1e6:F1} MB), {repeats} repeats (the first includes JIT); times are this thread's CPU " +
                "(user+sys, including the GC work done on it); GC pauses are the whole process's");
            for (var r = 0; r < repeats; r++)
            {
                GC.Collect();
                var text = Timed("read + UTF-8", () => File.ReadAllText(file));
                var documents = Timed("split", () => YamlDocumentSplitter.Split(text));
                Timed("YAML parse, YamlDotNet (the old path)", () =>
                {
                    foreach (var document in documents)
                        YamlEventTree.ParseWithYamlDotNet(document.Text);
                    return 0;
                });
                Timed("YAML parse, subset parser", () =>
                {
                    foreach (var document in documents)
                        YamlEventTree.Parse(document);
                    return 0;
                });
                Timed("document parse via YamlDotNet (YAML, decode, validate)", () =>
                {
                    foreach (var document in documents)
                        ManifestDocumentParser.Parse(file, document, d => YamlEventTree.ParseWithYamlDotNet(d.Text));
                    return 0;
                });
                Timed("document parse, subset parser + JSON decoding", () =>
                {
                    foreach (var document in documents)
                        ManifestDocumentParser.Parse(file, document, directDecoding: false);
                    return 0;
                });
                Timed("document parse, subset parser + direct decoding", () =>
                {
                    foreach (var document in documents)
                        ManifestDocumentParser.Parse(file, document);
                    return 0;
                });

                text = "";
                documents = [];
                var reader = new ManifestReader();
                var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
                var read = Timed("reader, whole file, fresh cache", () => reader.Read(file));
                if (read.Objects.Count != 2 * services || read.Errors.Count != 0)
                    throw new InvalidOperationException($"workload error: {read.Objects.Count} objects, {read.Errors.Count} errors: {read.Errors.FirstOrDefault()}");
                Console.WriteLine($"  GC heap held by the reader's result and cache: {(GC.GetTotalMemory(forceFullCollection: true) - heapBefore) / 1e6:F0} MB");
                var reconciler = new ManifestReconciler();
                var reconciled = Timed("reconcile", () => reconciler.Reconcile(read));
                var tracker = new ClusterChangeTracker("node-a", [ManifestSource.SourceName]);
                Timed("track (ClusterChangeTracker)", () =>
                {
                    foreach (var change in reconciled.Changes)
                        Deliver(tracker, change);
                    tracker.OnSynced(ManifestSource.SourceName);
                    return 0;
                });
                var writer = new InMemoryLoadBalancerWriter();
                var synced = Timed("first full sync (in-memory writer)", () => new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer).SyncOnce());
                if (!synced.Succeeded || writer.Count != services)
                    throw new InvalidOperationException($"workload error: {writer.Count} frontends programmed, expected {services}");

                Console.WriteLine($"  GC heap held by reader, reconciler, tracker and writer: {(GC.GetTotalMemory(forceFullCollection: true) - heapBefore) / 1e6:F0} MB");

                File.Copy(editedFile, file, overwrite: true);
                var changes = Timed("edit of one slice: read + reconcile", () => reconciler.Reconcile(reader.Read(file)).Changes.Count);
                if (changes != 1)
                    throw new InvalidOperationException($"workload error: {changes} changes after one edit");
                File.Copy(originalFile, file, overwrite: true);
                GC.KeepAlive(tracker);
                GC.KeepAlive(writer);
                Console.WriteLine();
            }

            PerObject(directory, File.ReadAllText(originalFile), services);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// What one Service and one EndpointSlice cost from the file to the tracker: a file of only the Services and one of
    /// only the slices, each read, reconciled and tracked with a fresh reader, reconciler and tracker; bytes allocated by
    /// the whole process (the reader parses on several threads) per object, the second of two passes.
    /// </summary>
    private static void PerObject(string directory, string text, int count)
    {
        var documents = YamlDocumentSplitter.Split(text);
        foreach (var kind in new[] { "Service", "EndpointSlice" })
        {
            var file = Path.Join(directory, $"only-{kind}.yaml");
            File.WriteAllText(file, string.Concat(documents.Where(d => d.Text.Contains($"\nkind: {kind}\n", StringComparison.Ordinal)).Select(d => "---\n" + d.Text)));
            var bytes = new FileInfo(file).Length;
            {
                // One thread, document by document: what the parse of one document allocates and what of it its result keeps.
                var ofKind = YamlDocumentSplitter.Split(File.ReadAllText(file));
                var kept = new List<IReadOnlyList<ManifestDocument>>(ofKind.Count);
                for (var i = 0; i < 100; i++)
                    ManifestDocumentParser.Parse(file, ofKind[i]);
                var heap = GC.GetTotalMemory(forceFullCollection: true);
                var allocated = GC.GetAllocatedBytesForCurrentThread();
                foreach (var document in ofKind)
                    kept.Add(ManifestDocumentParser.Parse(file, document));
                var parsed = GC.GetAllocatedBytesForCurrentThread() - allocated;
                var keptBytes = GC.GetTotalMemory(forceFullCollection: true) - heap;
                Console.WriteLine($"  per {kind,-13} document parse alone (YAML, decode, validate): allocated {parsed / (double)ofKind.Count,6:F0} B, kept {keptBytes / (double)ofKind.Count,6:F0} B");
                GC.KeepAlive(kept);
            }

            for (var pass = 0; pass < 2; pass++)
            {
                GC.Collect();
                var reader = new ManifestReader();
                var reconciler = new ManifestReconciler();
                var tracker = new ClusterChangeTracker("node-a", [ManifestSource.SourceName]);
                var before = GC.GetTotalAllocatedBytes(precise: true);
                var read = reader.Read(file);
                var afterRead = GC.GetTotalAllocatedBytes(precise: true);
                var changes = reconciler.Reconcile(read).Changes;
                var afterReconcile = GC.GetTotalAllocatedBytes(precise: true);
                foreach (var change in changes)
                    Deliver(tracker, change);
                tracker.OnSynced(ManifestSource.SourceName);
                var afterTrack = GC.GetTotalAllocatedBytes(precise: true);
                if (changes.Count != count)
                    throw new InvalidOperationException($"workload error: {changes.Count} {kind} changes, expected {count}");
                if (pass == 1)
                    Console.WriteLine($"  per {kind,-13} ({bytes / (double)count,5:F0} bytes of file): allocated read {(afterRead - before) / (double)count,6:F0} B, " +
                        $"reconcile {(afterReconcile - afterRead) / (double)count,5:F0} B, track {(afterTrack - afterReconcile) / (double)count,5:F0} B, " +
                        $"total {(afterTrack - before) / (double)count,6:F0} B");
                GC.KeepAlive(tracker);
            }
        }
    }

    private static T Timed<T>(string what, Func<T> work)
    {
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var allocatedAll = GC.GetTotalAllocatedBytes(precise: true);
        var paused = GC.GetTotalPauseDuration();
        var cpu = ThreadCpuClock.Now();
        var start = Stopwatch.GetTimestamp();
        var result = work();
        var wall = Stopwatch.GetElapsedTime(start);
        var used = ThreadCpuClock.Now() - cpu;
        Console.WriteLine($"  {what,-56} CPU {used.TotalMilliseconds,7:F0} ms  wall {wall.TotalMilliseconds,7:F0} ms  allocated {(GC.GetAllocatedBytesForCurrentThread() - allocated) / 1e6,7:F0} MB (process {(GC.GetTotalAllocatedBytes(precise: true) - allocatedAll) / 1e6,5:F0} MB)  GC pauses {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds,6:F0} ms");
        return result;
    }

    private static void Deliver(ClusterChangeTracker tracker, ManifestChange change)
    {
        switch (change.Key.Kind)
        {
            case ManifestKind.Service:
                tracker.OnService((V1Service?)change.Previous, (V1Service?)change.Current);
                break;
            case ManifestKind.EndpointSlice:
                tracker.OnEndpointSlice((V1EndpointSlice?)change.Previous, (V1EndpointSlice?)change.Current);
                break;
            case ManifestKind.Node:
                tracker.OnNode((V1Node?)change.Previous, (V1Node?)change.Current);
                break;
        }
    }
}
