using Microservices.Clients.Tests.Support;

namespace Microservices.Clients.Tests;

/// <summary>
/// The test assembly run as a program: <c>dotnet Microservices.Clients.Tests.dll round-robin SCENARIO NAME</c>
/// is how <see cref="RoundRobinTests"/> runs a scenario inside a network namespace of its own.
/// The test runner never calls this; it replaces the empty entry point Microsoft.NET.Test.Sdk generates.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is [RoundRobinScenarios.Command, var scenario, var name])
        {
            return await RoundRobinScenarios.RunHereAsync(scenario, name);
        }

        await Console.Error.WriteLineAsync($"usage: {RoundRobinScenarios.Command} SCENARIO NAME");
        return 2;
    }
}
