using CgroupLb.Model.Kubernetes;
using k8s;
using k8s.Models;

namespace CgroupLb.Manifests;

/// <summary>
/// The same field checks the Kubernetes tracker applies (<see cref="ObjectValidator"/>), reported per document. The
/// validator names its object in every message; a <see cref="ManifestError"/> names it already, so that prefix goes.
/// </summary>
internal static class ManifestValidation
{
    public static IReadOnlyList<string> Validate(ManifestObjectKey key, IKubernetesObject<V1ObjectMeta> typed)
    {
        var problems = typed switch
        {
            V1Service service => ObjectValidator.Validate(service),
            V1EndpointSlice slice => ObjectValidator.Validate(slice),
            // Nodes only contribute their addresses and labels; there is nothing the load balancer could misprogram.
            V1Node => [],
            _ => throw new ArgumentOutOfRangeException(nameof(typed), typed.GetType(), "not a manifest kind"),
        };

        if (problems.Count == 0)
        {
            return [];
        }

        var subject = key + ": ";
        return [.. problems.Select(p => p.StartsWith(subject, StringComparison.Ordinal) ? p[subject.Length..] : p)];
    }
}
