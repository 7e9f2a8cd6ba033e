namespace CgroupLb.Model.Services;

/// <summary>spec.internalTrafficPolicy / spec.externalTrafficPolicy: may traffic leave the node it arrived on?</summary>
public enum TrafficPolicy
{
    Cluster,
    Local,
}
