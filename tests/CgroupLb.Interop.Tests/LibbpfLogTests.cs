using CgroupLb.Testing.Logging;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Interop.Tests;

[Collection(LibbpfCollection.Name)]
public sealed class LibbpfLogTests
{
    [Fact]
    public void OpeningANonElfFileLogsLibbpfsWarning()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cglb-interop-test-{Environment.ProcessId}-not-elf.o");
        File.WriteAllText(path, "this is not an ELF object\n");
        var logger = new ListLogger();
        LibbpfLog.Install(logger);
        try
        {
            var exception = Assert.Throws<BpfException>(() => BpfObject.OpenFile(path));

            Assert.Equal("bpf_object__open_file", exception.Operation);
            Assert.Equal(path, exception.ObjectName);
            var warnings = logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
            Assert.Contains(warnings, message => message.StartsWith("libbpf: ", StringComparison.Ordinal) && message.Contains(path, StringComparison.Ordinal));
            Assert.DoesNotContain(warnings, message => message.EndsWith('\n'));
        }
        finally
        {
            LibbpfLog.Uninstall();
            File.Delete(path);
        }
    }
}
