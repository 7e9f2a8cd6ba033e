using CgroupLb.TestPeer;

const string Usage = """
    usage: cglb-testpeer COMMAND [options]
      serve --name NAME [--tcp P[,P..]] [--udp P[,P..]] [--http P]
      tcp-connect   --to IP:PORT [--count N] [--timeout-ms T]
      udp-sendto    --to IP:PORT [--count N] [--timeout-ms T]
      udp-connected --to IP:PORT [--count N] [--timeout-ms T]
      udp-alternate --to IP:PORT --also IP:PORT [--count N] [--timeout-ms T]
      tcp-loop      --to IP:PORT --duration-ms D [--timeout-ms T] [--trace]
      tcp-reconnect --to IP:PORT [--attempts N] [--timeout-ms T]
      udp-hold|tcp-hold --to IP:PORT --duration-ms D [--interval-ms I] [--timeout-ms T]
                        [--events-file E] [--stop-file S]
    Clients print one JSON object per line.
    """;

if (args is ["help"] or ["--help"] or ["-h"])
{
    Console.Out.WriteLine(Usage);
    return 0;
}

try
{
    PeerArguments arguments = PeerArguments.Parse(args);
    return arguments.Command switch
    {
        "serve" => await ServeCommand.RunAsync(arguments),
        "tcp-connect" => await TcpConnectCommand.RunAsync(arguments),
        "udp-sendto" => await UdpSendToCommand.RunAsync(arguments),
        "udp-connected" => await UdpConnectedCommand.RunAsync(arguments),
        "udp-alternate" => await UdpAlternateCommand.RunAsync(arguments),
        "tcp-loop" => await TcpLoopCommand.RunAsync(arguments),
        "tcp-reconnect" => TcpReconnectCommand.Run(arguments),
        "udp-hold" => await HoldCommand.RunAsync(arguments, System.Net.Sockets.SocketType.Dgram),
        "udp-sendto-hold" => await HoldCommand.RunAsync(arguments, System.Net.Sockets.SocketType.Dgram, connect: false),
        "tcp-hold" => await HoldCommand.RunAsync(arguments, System.Net.Sockets.SocketType.Stream),
        _ => throw new PeerUsageException($"unknown command '{arguments.Command}'"),
    };
}
catch (PeerUsageException e)
{
    Console.Error.WriteLine($"cglb-testpeer: {e.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}
