using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Microservices.Blob.Index;

/// <summary>
/// <see cref="IObjectLocks"/> across every replica that shares the PostgreSQL index: transaction
/// advisory locks, each held by an open transaction on a connection of its own. Transaction-scoped
/// rather than session-scoped so that nothing can leak into the pool: a lock ends with its
/// transaction, and a replica that dies (or loses its connection) releases its locks with it.
/// </summary>
internal sealed class PostgresAdvisoryLocks(NpgsqlDataSource dataSource) : IObjectLocks
{
    // Arbitrary constant naming "blob garbage collection round" among the database's advisory locks.
    private const long CollectorKey = 0x424C_4F42_4743_0001;

    public async Task<IAsyncDisposable> AcquireAsync(string objectKey, CancellationToken cancellationToken) =>
        (await TakeAsync("SELECT pg_advisory_xact_lock(@k)", ObjectKey(objectKey), cancellationToken).ConfigureAwait(false))!;

    public Task<IAsyncDisposable?> TryAcquireCollectorAsync(CancellationToken cancellationToken) =>
        TakeAsync("SELECT pg_try_advisory_xact_lock(@k)", CollectorKey, cancellationToken);

    /// <summary>A 64-bit name for the key (a collision only makes two keys wait for each other).</summary>
    internal static long ObjectKey(string objectKey) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("blob-object:" + objectKey)), 0);

    private async Task<IAsyncDisposable?> TakeAsync(string sql, long key, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.AddWithValue("k", key);
            // pg_advisory_xact_lock returns void (DBNull); the try form says whether it got the lock.
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is false)
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
                return null;
            }

            return new Held(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class Held(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            try
            {
                // Nothing was written in it: rolling back only ends the transaction, and with it the lock.
                await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
                // A broken connection has ended the transaction (and the lock) on the server already.
            }
            finally
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
