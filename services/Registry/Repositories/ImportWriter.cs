using System.Data.Common;
using Microservices.Registry.Models;

namespace Microservices.Registry.Repositories;

/// <summary>
/// Writes an import's new rows. Where the provider batches (Npgsql: each statement is a network
/// round trip) rows go out 500 at a time in one DbBatch; otherwise (SQLite, in-process, where a
/// call is cheap) through one prepared statement reused for every row.
/// </summary>
internal sealed class ImportWriter : IAsyncDisposable
{
    private const int BatchRows = 500;

    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;
    private readonly DbCommand? _prepared;
    private readonly DbParameter[]? _preparedParameters;
    private DbBatch? _batch;
    private int _batchedRows;

    private ImportWriter(DbConnection connection, DbTransaction transaction, DbCommand? prepared, DbParameter[]? preparedParameters)
    {
        _connection = connection;
        _transaction = transaction;
        _prepared = prepared;
        _preparedParameters = preparedParameters;
    }

    public static async Task<ImportWriter> CreateAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        if (connection.CanCreateBatch)
        {
            return new ImportWriter(connection, transaction, null, null);
        }

        var prepared = DbCommands.Create(connection, transaction, ModelSql.InsertModel);
        var parameters = ModelSql.AddModelParameters(prepared);
        await prepared.PrepareAsync(cancellationToken);
        return new ImportWriter(connection, transaction, prepared, parameters);
    }

    public async Task AddAsync(RegisteredModel model, CancellationToken cancellationToken)
    {
        if (_prepared is not null)
        {
            ModelSql.SetModelParameters(_preparedParameters!, model);
            await _prepared.ExecuteNonQueryAsync(cancellationToken);
            await ModelSql.InsertTagsAsync(_connection, _transaction, model, cancellationToken);
            return;
        }

        _batch ??= NewBatch();
        var insert = _batch.CreateBatchCommand();
        insert.CommandText = ModelSql.InsertModel;
        ModelSql.SetModelParameters(ModelSql.AddModelParameters(insert), model);
        _batch.BatchCommands.Add(insert);
        foreach (var (key, value) in model.Tags)
        {
            var tag = _batch.CreateBatchCommand();
            tag.CommandText = ModelSql.InsertTag;
            Add(tag, "@owner", model.Owner);
            Add(tag, "@model_id", model.ModelId);
            Add(tag, "@tag_key", key);
            Add(tag, "@tag_value", value);
            _batch.BatchCommands.Add(tag);
        }

        if (++_batchedRows >= BatchRows)
        {
            await FlushAsync(cancellationToken);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_batch is null)
        {
            return;
        }

        await _batch.ExecuteNonQueryAsync(cancellationToken);
        await _batch.DisposeAsync();
        _batch = null;
        _batchedRows = 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (_batch is not null)
        {
            await _batch.DisposeAsync();
        }

        if (_prepared is not null)
        {
            await _prepared.DisposeAsync();
        }
    }

    private DbBatch NewBatch()
    {
        var batch = _connection.CreateBatch();
        batch.Transaction = _transaction;
        return batch;
    }

    private static void Add(DbBatchCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
