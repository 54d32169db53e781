using System.Net;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Support;

/// <summary>
/// A plain HTTP server (HttpListener) for imports from archive_url: it serves fixed bytes at a path
/// (or other bytes on each request, as a source that changes between an import's reads), with a
/// Content-Length or chunked, and 404 for anything else.
/// </summary>
internal sealed class ArchiveHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, Route> _routes = new(StringComparer.Ordinal);
    private readonly Task _serving;

    public ArchiveHttpServer()
    {
        BaseUrl = $"http://127.0.0.1:{FreePort.Next()}/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public string BaseUrl { get; }

    /// <summary>Serves <paramref name="body"/> at BaseUrl + <paramref name="path"/>; returns that URL.</summary>
    public string Serve(string path, byte[] body, bool chunked) => ServeInTurn(path, [body], chunked);

    /// <summary>Serves the n-th body on the n-th request, and the last one from then on.</summary>
    public string ServeInTurn(string path, IReadOnlyList<byte[]> bodies, bool chunked = false)
    {
        lock (_routes)
        {
            _routes[path] = new Route(bodies, chunked);
        }

        return BaseUrl + path;
    }

    /// <summary>Answers BaseUrl + <paramref name="path"/> with a 302 to <paramref name="location"/>; returns that URL.</summary>
    public string Redirect(string path, string location)
    {
        lock (_routes)
        {
            _routes[path] = new Route([], false) { Location = location };
        }

        return BaseUrl + path;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => RespondAsync(context));
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            byte[]? body = null;
            var chunked = false;
            string? location = null;
            lock (_routes)
            {
                if (_routes.TryGetValue(context.Request.Url!.AbsolutePath.TrimStart('/'), out var route))
                {
                    location = route.Location;
                    body = location is null ? route.Bodies[Math.Min(route.Requests++, route.Bodies.Count - 1)] : null;
                    chunked = route.Chunked;
                }
            }

            if (location is not null)
            {
                response.Redirect(location);
                return;
            }

            if (body is null)
            {
                response.StatusCode = 404;
                return;
            }

            response.SendChunked = chunked;
            if (!chunked)
            {
                response.ContentLength64 = body.Length;
            }

            for (var offset = 0; offset < body.Length; offset += 64 * 1024)
            {
                await response.OutputStream.WriteAsync(body.AsMemory(offset, Math.Min(64 * 1024, body.Length - offset)));
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The importer stopped reading (it refused the archive).
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }

    private sealed class Route(IReadOnlyList<byte[]> bodies, bool chunked)
    {
        public IReadOnlyList<byte[]> Bodies { get; } = bodies;

        public bool Chunked { get; } = chunked;

        public int Requests { get; set; }

        public string? Location { get; init; }
    }
}
