using System.Runtime.CompilerServices;

namespace Microservices.Caching.Tests;

/// <summary>
/// These tests give Redis calls 150–500 ms budgets. At test-host start-up a 2-core machine's
/// thread pool (2 threads minimum, grown about once per 500 ms) was measured at 3 threads with 7–8
/// queued items, and a SET's 500 ms timeout fired 730 ms late: a test that ran first failed 11 of
/// 20 times for reasons outside the code under test. A higher floor removes that (0 of 20).
/// </summary>
internal static class ThreadPoolFloor
{
    [ModuleInitializer]
    internal static void Raise() => ThreadPool.SetMinThreads(Math.Max(16, Environment.ProcessorCount * 4), Math.Max(16, Environment.ProcessorCount * 4));
}
