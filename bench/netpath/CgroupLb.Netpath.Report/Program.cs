using CgroupLb.Netpath.Report;

// netpath-report RUN_DIR OUT_DIR [PREFIX]: RUN_DIR is what bench/netpath/run.sh wrote (results.tsv, machine.txt,
// checks.txt); OUT_DIR gets PREFIX.md and PREFIX-{latency,connects,load}.png (PREFIX defaults to "netpath").
if (args.Length is < 2 or > 3)
{
    Console.Error.WriteLine("usage: netpath-report RUN_DIR OUT_DIR [PREFIX]");
    return 2;
}

NetpathRun run;
try
{
    run = NetpathRun.Load(args[0]);
}
catch (Exception e) when (e is IOException or FormatException)
{
    Console.Error.WriteLine($"netpath-report: {e.Message}");
    return 1;
}
if (run.Sizes.Count == 0)
{
    Console.Error.WriteLine($"netpath-report: {args[0]}/results.tsv holds no measurements");
    return 1;
}

string outDir = args[1];
string prefix = args.Length == 3 ? args[2] : "netpath";
Directory.CreateDirectory(outDir);
bool quick = run.Machine.Any(l => l.TrimStart().StartsWith("mode: quick", StringComparison.Ordinal));
NetpathPlots.Write(run, outDir, prefix, quick ? " (quick mode, shared VM)" : " (shared VM)");
File.WriteAllText(Path.Combine(outDir, prefix + ".md"), MarkdownReport.Render(run, prefix));
Console.WriteLine($"netpath-report: wrote {prefix}.md and {prefix}-{{latency,connects,load}}.png to {outDir}");
return 0;
