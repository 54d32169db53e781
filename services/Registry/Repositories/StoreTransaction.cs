using System.Data.Common;

namespace Microservices.Registry.Repositories;

/// <summary>
/// A transaction on its own connection: a write's, plus whatever the store holds to serialize
/// writers, or a read's snapshot. Disposing it uncommitted rolls it back.
/// </summary>
internal sealed class StoreTransaction : IAsyncDisposable
{
    private readonly IDisposable? _gate;
    private readonly string? _resetSql;

    /// <param name="resetSql">Run on the connection after the transaction ends, before it returns to the pool.</param>
    public StoreTransaction(DbConnection connection, DbTransaction transaction, IDisposable? gate, string? resetSql = null)
    {
        Connection = connection;
        Transaction = transaction;
        _gate = gate;
        _resetSql = resetSql;
    }

    public DbConnection Connection { get; }

    public DbTransaction Transaction { get; }

    public Task CommitAsync(CancellationToken cancellationToken) => Transaction.CommitAsync(cancellationToken);

    public Task RollbackAsync(CancellationToken cancellationToken) => Transaction.RollbackAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Disposing an uncommitted transaction rolls it back.
            await Transaction.DisposeAsync();
            if (_resetSql is not null)
            {
                await using var reset = DbCommands.Create(Connection, null, _resetSql);
                await reset.ExecuteNonQueryAsync();
            }

            await Connection.DisposeAsync();
        }
        finally
        {
            _gate?.Dispose();
        }
    }
}
