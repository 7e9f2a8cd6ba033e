using System.Globalization;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// Stretches the sandbox's waits on slow machines. tests/vm runs the kernel tests in emulated guests, where starting a
/// .NET process takes seconds instead of tens of milliseconds; it sets CGLB_TEST_TIMEOUT_SCALE so the limits that
/// catch a hung peer on real hardware do not fail a healthy but emulated one. Unset or invalid means 1.
/// </summary>
public static class SandboxTimeouts
{
    public static double Scale { get; } =
        double.TryParse(Environment.GetEnvironmentVariable("CGLB_TEST_TIMEOUT_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out double scale) && scale >= 1
            ? scale
            : 1;

    public static TimeSpan Seconds(double seconds) => TimeSpan.FromSeconds(seconds * Scale);
}
