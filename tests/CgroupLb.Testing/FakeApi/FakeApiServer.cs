using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Testing.FakeApi;

/// <summary>
/// An in-process API server for Services, EndpointSlices and Nodes that speaks the real list/watch wire protocol
/// over HTTP on 127.0.0.1: one global, monotonically increasing resourceVersion; paged lists with limit/continue
/// over a snapshot; watches as chunked newline-delimited JSON events replayed from a retained history; bookmarks;
/// 410 Expired for versions older than that history. Tests change its store directly and misbehave it on purpose
/// (compaction, dropped, stalled and expired watches, outages). The store outlives <see cref="StopAsync"/>, so a
/// restarted server on the same port serves what was changed while it was down.
/// </summary>
public sealed class FakeApiServer : IAsyncDisposable
{
    // Queued ahead of a watch's last, partial line (see EndWatchesMidEvent): write it without a newline, then end.
    private const string ResetAfterMarker = "\u0000reset\u0000";
    private const string EndAfterMarker = "\u0000ended\u0000";

    private readonly Lock gate = new();
    private readonly Dictionary<FakeResource, ResourceState> stateByResource = FakeResource.All.ToDictionary(r => r, _ => new ResourceState());
    private readonly List<FakeWatch> watches = [];
    private readonly Dictionary<string, ListSnapshot> snapshotById = new(StringComparer.Ordinal);
    private readonly List<WatchRequest> watchRequests = [];
    private long currentVersion = 1000;
    private long historyStart;
    private bool stopping;
    private int snapshotCounter;
    private WebApplication? app;

    private FakeApiServer(int port) => Port = port;

    public int Port { get; private set; }

    public string Host => $"http://127.0.0.1:{Port}";

    public bool IsRunning => app is not null;

    public ExpiredWatchResponse ExpiredWatchResponse { get; set; } = ExpiredWatchResponse.ErrorEvent;

    public string? LastAuthorization { get; private set; }

    public long CurrentVersion
    {
        get
        {
            lock (gate)
            {
                return currentVersion;
            }
        }
    }

    /// <summary>A running server on a free port.</summary>
    public static async Task<FakeApiServer> StartNewAsync()
    {
        var server = new FakeApiServer(0);
        await server.StartAsync();
        return server;
    }

    /// <summary>A server that is not listening yet, on a port that was free a moment ago.</summary>
    public static FakeApiServer CreateStopped()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new FakeApiServer(port);
    }

    public async Task StartAsync()
    {
        if (app is not null)
        {
            throw new InvalidOperationException("already running");
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, Port));
        lock (gate)
        {
            stopping = false;
        }

        var started = builder.Build();
        foreach (var resource in FakeResource.All)
        {
            started.MapGet(resource.Path, (RequestDelegate)(context => HandleAsync(context, resource)));
        }

        await started.StartAsync();
        var address = started.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Port = new Uri(address).Port;
        app = started;
    }

    /// <summary>Cuts every watch connection and stops listening; the store and its history are kept.</summary>
    public async Task StopAsync()
    {
        var running = app ?? throw new InvalidOperationException("not running");
        app = null;
        lock (gate)
        {
            stopping = true;
        }

        // Kestrel waits for requests in flight before it stops; watches never finish on their own, so they are cut,
        // and any that slip in while the listener closes are cut on arrival.
        DropAllWatches();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await running.StopAsync(deadline.Token);
        await running.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await StopAsync();
        }
    }

    public long Upsert<T>(T obj)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        return UpsertJson(ResourceFor<T>(), KubernetesJson.Serialize(obj));
    }

    /// <summary>
    /// Stores an object given as JSON as the server would any other (resourceVersion, uid, kind set; ADDED or MODIFIED
    /// to the watches), without checking its fields: how a test serves a malformed object, e.g. a port as a string.
    /// </summary>
    public long UpsertJson(FakeResource resource, string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        var metadata = node["metadata"]?.AsObject() ?? throw new ArgumentException("object has no metadata");
        var name = (string?)metadata["name"] ?? throw new ArgumentException("object has no metadata.name");
        var ns = (string?)metadata["namespace"];
        if (resource.Namespaced != (ns is not null))
        {
            throw new ArgumentException($"{resource.Kind} {name}: namespace {(resource.Namespaced ? "required" : "not allowed")}");
        }

        lock (gate)
        {
            var version = ++currentVersion;
            node["kind"] = resource.Kind;
            node["apiVersion"] = resource.ApiVersion;
            metadata["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
            var state = stateByResource[resource];
            var key = KeyOf(ns, name);
            var existed = state.ObjectByKey.TryGetValue(key, out var previous);
            metadata["uid"] = previous is not null ? JsonNode.Parse(previous.Json)!["metadata"]!["uid"]!.GetValue<string>() : Guid.NewGuid().ToString();
            var stored = node.ToJsonString();
            state.ObjectByKey[key] = new StoredObject(name, version, stored);
            Record(resource, new HistoryEvent(version, existed ? "MODIFIED" : "ADDED", name, stored));
            return version;
        }
    }

    public bool Delete<T>(string? ns, string name)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var resource = ResourceFor<T>();
        lock (gate)
        {
            var state = stateByResource[resource];
            if (!state.ObjectByKey.Remove(KeyOf(ns, name), out var removed))
            {
                return false;
            }

            var version = ++currentVersion;
            var node = JsonNode.Parse(removed.Json)!;
            node["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
            Record(resource, new HistoryEvent(version, "DELETED", name, node.ToJsonString()));
            return true;
        }
    }

    /// <summary>key (namespace/name or name) -> resourceVersion of every stored object.</summary>
    public IReadOnlyDictionary<string, string> Versions(FakeResource resource)
    {
        lock (gate)
        {
            return stateByResource[resource].ObjectByKey.ToDictionary(
                pair => pair.Key, pair => pair.Value.Version.ToString(CultureInfo.InvariantCulture), StringComparer.Ordinal);
        }
    }

    /// <summary>Forgets all history: any watch from a version older than the current one gets 410, and paged lists in progress expire.</summary>
    public void CompactHistory()
    {
        lock (gate)
        {
            historyStart = currentVersion;
            foreach (var state in stateByResource.Values)
            {
                state.History.Clear();
            }

            snapshotById.Clear();
        }
    }

    /// <summary>Resets every open watch connection, as a crashing server or a broken network would.</summary>
    public void DropAllWatches()
    {
        lock (gate)
        {
            foreach (var watch in watches)
            {
                watch.Drop();
            }
        }
    }

    /// <summary>Open watches stay connected but receive nothing more: a half-dead connection. New watches are healthy.</summary>
    public void StallWatches()
    {
        lock (gate)
        {
            foreach (var watch in watches)
            {
                watch.Stalled = true;
            }
        }
    }

    /// <summary>Every open watch (stalled ones too) gets an ERROR event with a 410 Expired Status and is then closed.</summary>
    public void ExpireWatches()
    {
        lock (gate)
        {
            foreach (var watch in watches)
            {
                watch.Lines.Writer.TryWrite(ErrorLine(ExpiredStatus(historyStart)));
                watch.Lines.Writer.TryComplete();
            }
        }
    }

    /// <summary>Sends a BOOKMARK at the current resourceVersion to every healthy watch that asked for bookmarks.</summary>
    public long SendBookmarks()
    {
        lock (gate)
        {
            foreach (var watch in watches.Where(w => w.Bookmarks && !w.Stalled))
            {
                var bookmark = new JsonObject
                {
                    ["kind"] = watch.Resource.Kind,
                    ["apiVersion"] = watch.Resource.ApiVersion,
                    ["metadata"] = new JsonObject { ["resourceVersion"] = currentVersion.ToString(CultureInfo.InvariantCulture) },
                };
                watch.Lines.Writer.TryWrite(EventLine("BOOKMARK", bookmark.ToJsonString()));
            }

            return currentVersion;
        }
    }

    /// <summary>Writes a raw line into every healthy watch of a resource (to feed the client garbage).</summary>
    public void InjectWatchLine(FakeResource resource, string line)
    {
        lock (gate)
        {
            foreach (var watch in watches.Where(w => w.Resource == resource && !w.Stalled))
            {
                watch.Lines.Writer.TryWrite(line);
            }
        }
    }

    /// <summary>
    /// Every healthy watch of a resource gets the start of an event, <paramref name="partialLine"/> without its newline,
    /// and then ends: with <paramref name="reset"/> the connection is reset (a server or proxy dying mid-write),
    /// otherwise the response ends normally, leaving the client with a line cut short.
    /// </summary>
    public void EndWatchesMidEvent(FakeResource resource, string partialLine, bool reset)
    {
        lock (gate)
        {
            foreach (var watch in watches.Where(w => w.Resource == resource && !w.Stalled))
            {
                watch.Lines.Writer.TryWrite((reset ? ResetAfterMarker : EndAfterMarker) + partialLine);
                watch.Lines.Writer.TryComplete();
            }
        }
    }

    /// <summary>The next <paramref name="count"/> list requests for the resource fail with 500.</summary>
    public void FailNextLists(FakeResource resource, int count)
    {
        lock (gate)
        {
            stateByResource[resource].FailNextLists = count;
        }
    }

    public int ListRequests(FakeResource resource)
    {
        lock (gate)
        {
            return stateByResource[resource].ListRequests;
        }
    }

    public int OpenWatches(FakeResource resource)
    {
        lock (gate)
        {
            return watches.Count(w => w.Resource == resource);
        }
    }

    public IReadOnlyList<WatchRequest> WatchRequests(FakeResource resource)
    {
        lock (gate)
        {
            return watchRequests.Where(r => r.Resource == resource).ToList();
        }
    }

    private static FakeResource ResourceFor<T>() => typeof(T) switch
    {
        var t when t == typeof(V1Service) => FakeResource.Services,
        var t when t == typeof(V1EndpointSlice) => FakeResource.EndpointSlices,
        var t when t == typeof(V1Node) => FakeResource.Nodes,
        var t => throw new ArgumentException($"the fake server does not serve {t.Name}"),
    };

    private static string KeyOf(string? ns, string name) => ns is null ? name : $"{ns}/{name}";

    private void Record(FakeResource resource, HistoryEvent historyEvent)
    {
        stateByResource[resource].History.Add(historyEvent);
        var line = EventLine(historyEvent.Type, historyEvent.Json);
        foreach (var watch in watches.Where(w => w.Resource == resource && !w.Stalled && w.Matches(historyEvent.Name)))
        {
            watch.Lines.Writer.TryWrite(line);
        }
    }

    private async Task HandleAsync(HttpContext context, FakeResource resource)
    {
        var query = context.Request.Query;
        LastAuthorization = context.Request.Headers.Authorization.ToString();
        string? nameFilter = null;
        var fieldSelector = (string?)query["fieldSelector"];
        if (!string.IsNullOrEmpty(fieldSelector))
        {
            const string prefix = "metadata.name=";
            if (!fieldSelector.StartsWith(prefix, StringComparison.Ordinal))
            {
                await WriteStatusAsync(context, 400, "BadRequest", $"unsupported field selector '{fieldSelector}'");
                return;
            }

            nameFilter = fieldSelector[prefix.Length..];
        }

        if ((string?)query["watch"] is "true" or "1")
        {
            await WatchAsync(context, resource, nameFilter);
        }
        else
        {
            await ListAsync(context, resource, nameFilter);
        }
    }

    private async Task ListAsync(HttpContext context, FakeResource resource, string? nameFilter)
    {
        var query = context.Request.Query;
        var limit = int.TryParse(query["limit"], out var parsedLimit) && parsedLimit > 0 ? parsedLimit : int.MaxValue;
        var continueToken = (string?)query["continue"];
        ListSnapshot snapshot;
        int offset;
        string? nextToken;
        lock (gate)
        {
            var state = stateByResource[resource];
            state.ListRequests++;
            if (state.FailNextLists > 0)
            {
                state.FailNextLists--;
                snapshot = null!;
                offset = -1;
                nextToken = null;
            }
            else if (!string.IsNullOrEmpty(continueToken))
            {
                var parts = continueToken.Split(':');
                if (!snapshotById.TryGetValue(parts[0], out snapshot!))
                {
                    offset = -2;
                    nextToken = null;
                }
                else
                {
                    offset = int.Parse(parts[1], CultureInfo.InvariantCulture);
                    nextToken = offset + limit < snapshot.Items.Count ? $"{parts[0]}:{offset + limit}" : null;
                }
            }
            else
            {
                var items = state.ObjectByKey.Values.Where(o => nameFilter is null || o.Name == nameFilter).Select(o => o.Json).ToList();
                snapshot = new ListSnapshot(currentVersion, items);
                offset = 0;
                nextToken = null;
                if (limit < items.Count)
                {
                    var id = $"s{++snapshotCounter}";
                    snapshotById[id] = snapshot;
                    nextToken = $"{id}:{limit}";
                }
            }
        }

        if (offset == -1)
        {
            await WriteStatusAsync(context, 500, "InternalError", "injected list failure");
            return;
        }

        if (offset == -2)
        {
            await WriteStatusAsync(context, 410, "Expired", "The provided continue parameter is too old to display a consistent list result.");
            return;
        }

        var body = new StringBuilder();
        body.Append("{\"kind\":\"").Append(resource.ListKind).Append("\",\"apiVersion\":\"").Append(resource.ApiVersion)
            .Append("\",\"metadata\":{\"resourceVersion\":\"").Append(snapshot.Version.ToString(CultureInfo.InvariantCulture)).Append('"');
        if (nextToken is not null)
        {
            body.Append(",\"continue\":\"").Append(nextToken).Append('"');
        }

        body.Append("},\"items\":[");
        body.AppendJoin(',', snapshot.Items.Skip(offset).Take(limit));
        body.Append("]}");
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToString());
    }

    private async Task WatchAsync(HttpContext context, FakeResource resource, string? nameFilter)
    {
        var query = context.Request.Query;
        var requestedVersion = (string?)query["resourceVersion"];
        var bookmarks = (string?)query["allowWatchBookmarks"] is "true";
        var timeout = int.TryParse(query["timeoutSeconds"], out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan;
        FakeWatch? watch = null;
        long expiredAt = -1;
        lock (gate)
        {
            if (stopping)
            {
                context.Abort();
                return;
            }

            watchRequests.Add(new WatchRequest(resource, requestedVersion, nameFilter, context.Request.Headers.Authorization.ToString(), context.Request.QueryString.Value ?? ""));
            var from = string.IsNullOrEmpty(requestedVersion) || requestedVersion == "0" ? -1 : long.Parse(requestedVersion, CultureInfo.InvariantCulture);
            if (from >= 0 && from < historyStart)
            {
                expiredAt = historyStart;
            }
            else
            {
                watch = new FakeWatch(resource, nameFilter, bookmarks);
                var state = stateByResource[resource];
                var replay = from < 0
                    ? state.ObjectByKey.Values.Where(o => watch.Matches(o.Name)).Select(o => EventLine("ADDED", o.Json))
                    : state.History.Where(e => e.Version > from && watch.Matches(e.Name)).Select(e => EventLine(e.Type, e.Json));
                foreach (var line in replay)
                {
                    watch.Lines.Writer.TryWrite(line);
                }

                watches.Add(watch);
            }
        }

        if (watch is null)
        {
            if (ExpiredWatchResponse == ExpiredWatchResponse.HttpGone)
            {
                await WriteStatusAsync(context, 410, "Expired", $"too old resource version: {requestedVersion} ({expiredAt})");
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(ErrorLine(ExpiredStatus(expiredAt)) + "\n");
            return;
        }

        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, watch.Dropped);
        ending.CancelAfter(timeout);
        try
        {
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(ending.Token);
            await context.Response.Body.FlushAsync(ending.Token);
            await foreach (var line in watch.Lines.Reader.ReadAllAsync(ending.Token))
            {
                if (line.StartsWith(ResetAfterMarker, StringComparison.Ordinal) || line.StartsWith(EndAfterMarker, StringComparison.Ordinal))
                {
                    await context.Response.WriteAsync(line[ResetAfterMarker.Length..], ending.Token);
                    await context.Response.Body.FlushAsync(ending.Token);
                    if (line.StartsWith(ResetAfterMarker, StringComparison.Ordinal))
                    {
                        context.Abort();
                    }

                    return;
                }

                await context.Response.WriteAsync(line + "\n", ending.Token);
                await context.Response.Body.FlushAsync(ending.Token);
            }
        }
        catch (OperationCanceledException) when (watch.Dropped.IsCancellationRequested)
        {
            context.Abort();
        }
        catch (OperationCanceledException)
        {
            // Client went away, or the watch's timeoutSeconds ran out: the response simply ends.
        }
        finally
        {
            lock (gate)
            {
                watches.Remove(watch);
            }
        }
    }

    private static async Task WriteStatusAsync(HttpContext context, int code, string reason, string message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(StatusJson(code, reason, message));
    }

    private static string ExpiredStatus(long historyStart) =>
        StatusJson(410, "Expired", $"too old resource version (history starts at {historyStart})");

    private static string StatusJson(int code, string reason, string message) => new JsonObject
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    }.ToJsonString();

    private static string EventLine(string type, string objectJson) => $"{{\"type\":\"{type}\",\"object\":{objectJson}}}";

    private static string ErrorLine(string statusJson) => EventLine("ERROR", statusJson);

    /// <summary>A watch as it was asked for: its resourceVersion, name filter, Authorization header and whole query string.</summary>
    public sealed record WatchRequest(FakeResource Resource, string? ResourceVersion, string? NameFilter, string Authorization, string Query);

    private sealed record StoredObject(string Name, long Version, string Json);

    private sealed record HistoryEvent(long Version, string Type, string Name, string Json);

    private sealed record ListSnapshot(long Version, IReadOnlyList<string> Items);

    private sealed class ResourceState
    {
        public SortedDictionary<string, StoredObject> ObjectByKey { get; } = new(StringComparer.Ordinal);

        public List<HistoryEvent> History { get; } = [];

        public int ListRequests { get; set; }

        public int FailNextLists { get; set; }
    }

    private sealed class FakeWatch
    {
        private readonly CancellationTokenSource dropped = new();

        public FakeWatch(FakeResource resource, string? nameFilter, bool bookmarks)
        {
            Resource = resource;
            NameFilter = nameFilter;
            Bookmarks = bookmarks;
        }

        public FakeResource Resource { get; }

        public string? NameFilter { get; }

        public bool Bookmarks { get; }

        public bool Stalled { get; set; }

        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>();

        public CancellationToken Dropped => dropped.Token;

        public bool Matches(string name) => NameFilter is null || NameFilter == name;

        public void Drop() => dropped.Cancel();
    }
}
