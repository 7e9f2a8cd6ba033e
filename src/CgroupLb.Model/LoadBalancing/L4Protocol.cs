namespace CgroupLb.Model.LoadBalancing;

/// <summary>Transport protocol of a frontend or backend. Values are IANA protocol numbers, as in the map ABI.</summary>
public enum L4Protocol : byte
{
    Tcp = 6,
    Udp = 17,
}
