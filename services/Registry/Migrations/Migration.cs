namespace Microservices.Registry.Migrations;

/// <summary>
/// One schema step. Versions are consecutive from 1 and never edited once released: a change
/// is a new migration. Each runs in its own transaction and records itself in schema_version.
/// </summary>
internal sealed record Migration(int Version, string Description, string Sql);
