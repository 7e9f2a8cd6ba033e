namespace CgroupLb.Netpath.Report;

/// <summary>A metric of results.tsv, how to show it, and which way is better.</summary>
public sealed record MetricKind(string Name, string Title, string Unit, bool HigherIsBetter)
{
    public static readonly MetricKind UdpRttP50 = new("udp_rtt_p50_us", "UDP RTT p50", "us", false);
    public static readonly MetricKind UdpRttP99 = new("udp_rtt_p99_us", "UDP RTT p99", "us", false);
    public static readonly MetricKind UdpRttP999 = new("udp_rtt_p999_us", "UDP RTT p99.9", "us", false);
    public static readonly MetricKind TcpRttP50 = new("tcp_rtt_p50_us", "TCP RTT p50", "us", false);
    public static readonly MetricKind TcpRttP99 = new("tcp_rtt_p99_us", "TCP RTT p99", "us", false);
    public static readonly MetricKind TcpRttP999 = new("tcp_rtt_p999_us", "TCP RTT p99.9", "us", false);
    public static readonly MetricKind UdpMessages = new("udp_msgs_per_s", "UDP msg/s", "msg/s", true);
    public static readonly MetricKind Connects = new("tcp_connects_per_s", "TCP connects/s", "1/s", true);
    public static readonly MetricKind ConnectP50 = new("connect_p50_us", "connect() p50", "us", false);
    public static readonly MetricKind ConnectP99 = new("connect_p99_us", "connect() p99", "us", false);
    public static readonly MetricKind ConnectP999 = new("connect_p999_us", "connect() p99.9", "us", false);
    public static readonly MetricKind LoadTime = new("load_ms", "time to load N Services", "ms", false);
}
