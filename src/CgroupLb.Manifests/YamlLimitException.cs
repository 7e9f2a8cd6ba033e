using YamlDotNet.Core;

namespace CgroupLb.Manifests;

/// <summary>A document refused by <see cref="YamlLimits"/> or by a rule of the YAML-to-JSON translation, at a position of its text.</summary>
internal sealed class YamlLimitException(Mark start, string message) : Exception(message)
{
    public Mark Start { get; } = start;
}
