namespace Microservices.Export.Tests.Resilience;

/// <summary>
/// Tests that stop dependencies, time an export's phases or listen to process-wide meters run one
/// at a time with nothing beside them: on a shared two-core machine a neighbour would skew timing,
/// and a neighbour's retries would count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResilienceCollection
{
    public const string Name = "Resilience";
}
