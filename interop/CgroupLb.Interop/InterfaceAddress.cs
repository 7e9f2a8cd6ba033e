using System.Net;

namespace CgroupLb.Interop;

/// <summary>
/// One address of a network interface as rtnetlink reports it (struct ifaddrmsg plus IFA_LOCAL or IFA_ADDRESS):
/// <paramref name="Removed"/> is false for RTM_NEWADDR (a dump entry or an added address), true for RTM_DELADDR.
/// <paramref name="Scope"/> is the kernel's RT_SCOPE_* (0 universe, 253 link, 254 host).
/// </summary>
public readonly record struct InterfaceAddress(IPAddress Address, byte PrefixLength, int InterfaceIndex, byte Scope, bool Removed);
