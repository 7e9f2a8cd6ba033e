using System.Globalization;
using System.Net;

namespace CgroupLb.TestPeer;

/// <summary>
/// A subcommand followed by <c>--option value</c> pairs and bare <c>--flag</c>s. Hand-rolled so the peer has no
/// dependencies and starts fast: kernel tests launch it many times.
/// </summary>
public sealed class PeerArguments
{
    private readonly Dictionary<string, string?> _options;

    private PeerArguments(string command, Dictionary<string, string?> options)
    {
        Command = command;
        _options = options;
    }

    public string Command { get; }

    public static PeerArguments Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0].StartsWith('-'))
            throw new PeerUsageException("missing command");

        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int i = 1; i < args.Count; i++)
        {
            string name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
                throw new PeerUsageException($"unexpected argument '{name}' (options start with --)");
            bool hasValue = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            if (!options.TryAdd(name, hasValue ? args[++i] : null))
                throw new PeerUsageException($"option {name} given twice");
        }
        return new PeerArguments(args[0], options);
    }

    /// <summary>Fails on options the command does not know, so a typo is an error rather than a silent default.</summary>
    public void RejectUnknown(params string[] known)
    {
        foreach (string name in _options.Keys)
        {
            if (Array.IndexOf(known, name) < 0)
                throw new PeerUsageException($"{Command}: unknown option {name} (known: {string.Join(", ", known)})");
        }
    }

    public string Required(string name) =>
        Optional(name) ?? throw new PeerUsageException($"{Command}: option {name} is required");

    public string? Optional(string name)
    {
        if (!_options.TryGetValue(name, out string? value))
            return null;
        return value ?? throw new PeerUsageException($"{Command}: option {name} needs a value");
    }

    public bool Flag(string name)
    {
        if (!_options.TryGetValue(name, out string? value))
            return false;
        return value is null ? true : throw new PeerUsageException($"{Command}: option {name} is a flag and takes no value");
    }

    public int PositiveInt(string name, int defaultValue)
    {
        string? text = Optional(name);
        if (text is null)
            return defaultValue;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value <= 0)
            throw new PeerUsageException($"{Command}: option {name} must be a positive integer, got '{text}'");
        return value;
    }

    public IPEndPoint EndPoint(string name)
    {
        string text = Required(name);
        if (!IPEndPoint.TryParse(text, out IPEndPoint? endPoint) || endPoint.Port == 0)
            throw new PeerUsageException($"{Command}: option {name} must be IP:PORT with a non-zero port, got '{text}'");
        return endPoint;
    }

    /// <summary>A comma-separated list of IP:PORT (IPv6 in brackets); at least one.</summary>
    public IReadOnlyList<IPEndPoint> EndPoints(string name)
    {
        var endPoints = new List<IPEndPoint>();
        foreach (string part in Required(name).Split(',', StringSplitOptions.TrimEntries))
        {
            if (!IPEndPoint.TryParse(part, out IPEndPoint? endPoint) || endPoint.Port == 0)
                throw new PeerUsageException($"{Command}: option {name} must list IP:PORT with non-zero ports, got '{part}'");
            endPoints.Add(endPoint);
        }
        return endPoints;
    }

    /// <summary>A comma-separated port list; absent means none.</summary>
    public IReadOnlyList<ushort> Ports(string name)
    {
        string? text = Optional(name);
        if (text is null)
            return [];
        var ports = new List<ushort>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!ushort.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out ushort port) || port == 0)
                throw new PeerUsageException($"{Command}: option {name} must list ports 1-65535, got '{part}'");
            ports.Add(port);
        }
        return ports;
    }
}
