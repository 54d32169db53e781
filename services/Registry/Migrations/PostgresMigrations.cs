namespace Microservices.Registry.Migrations;

/// <summary>
/// The PostgreSQL schema history, step for step the same as SQLite's. Text keys use
/// COLLATE "C" so ordering and prefix ranges compare code points exactly as SQLite does.
/// </summary>
internal static class PostgresMigrations
{
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "models table with owner-scoped indexes", """
            CREATE TABLE models (
                owner       text COLLATE "C" NOT NULL,
                model_id    text COLLATE "C" NOT NULL,
                source_type text NOT NULL CHECK (source_type IN ('huggingface', 'cortex.so', 'local')),
                author_repo text COLLATE "C" NOT NULL,
                branch      text NOT NULL,
                config_path text NOT NULL,
                alias       text COLLATE "C",
                status      text NOT NULL CHECK (status IN ('READY', 'RUNNING')),
                version     bigint NOT NULL,
                created_at  bigint NOT NULL,
                updated_at  bigint NOT NULL,
                CONSTRAINT models_pkey PRIMARY KEY (owner, model_id)
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
                owner     text COLLATE "C" NOT NULL,
                model_id  text COLLATE "C" NOT NULL,
                tag_key   text COLLATE "C" NOT NULL,
                tag_value text COLLATE "C" NOT NULL,
                PRIMARY KEY (owner, model_id, tag_key),
                FOREIGN KEY (owner, model_id) REFERENCES models (owner, model_id) ON DELETE CASCADE ON UPDATE CASCADE
            );
            CREATE INDEX ix_model_tags_key_value ON model_tags (owner, tag_key, tag_value, model_id);
            """),
    ];
}
