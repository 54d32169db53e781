namespace Microservices.Registry.Migrations;

/// <summary>
/// The SQLite schema history. Every List filter has an index (proven by EXPLAIN QUERY PLAN in
/// the tests); each starts with owner because every query is owner-scoped, and ends with
/// model_id so filtered pages come out in id order without a sort.
/// </summary>
internal static class SqliteMigrations
{
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "models table with owner-scoped indexes", """
            CREATE TABLE schema_version (
                version     INTEGER PRIMARY KEY,
                description TEXT NOT NULL,
                applied_at  TEXT NOT NULL
            );
            CREATE TABLE models (
                owner       TEXT NOT NULL,
                model_id    TEXT NOT NULL,
                source_type TEXT NOT NULL CHECK (source_type IN ('huggingface', 'cortex.so', 'local')),
                author_repo TEXT NOT NULL,
                branch      TEXT NOT NULL,
                config_path TEXT NOT NULL,
                alias       TEXT,
                status      TEXT NOT NULL CHECK (status IN ('READY', 'RUNNING')),
                version     INTEGER NOT NULL,
                created_at  INTEGER NOT NULL,
                updated_at  INTEGER NOT NULL,
                PRIMARY KEY (owner, model_id)
            );
            CREATE UNIQUE INDEX ux_models_alias ON models (owner, alias);
            CREATE INDEX ix_models_source_type ON models (owner, source_type, model_id);
            CREATE INDEX ix_models_status ON models (owner, status, model_id);
            CREATE INDEX ix_models_author_repo ON models (owner, author_repo, model_id);
            CREATE INDEX ix_models_created_at ON models (owner, created_at, model_id);
            CREATE INDEX ix_models_updated_at ON models (owner, updated_at, model_id);
            """),
        new(2, "model tags (MLflow-style key/value)", """
            CREATE TABLE model_tags (
                owner     TEXT NOT NULL,
                model_id  TEXT NOT NULL,
                tag_key   TEXT NOT NULL,
                tag_value TEXT NOT NULL,
                PRIMARY KEY (owner, model_id, tag_key),
                FOREIGN KEY (owner, model_id) REFERENCES models (owner, model_id) ON DELETE CASCADE ON UPDATE CASCADE
            );
            CREATE INDEX ix_model_tags_key_value ON model_tags (owner, tag_key, tag_value, model_id);
            """),
    ];
}
