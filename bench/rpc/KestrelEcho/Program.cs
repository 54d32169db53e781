// Bare Kestrel HTTP/2 (h2c) echo: the ceiling the gRPC rows are measured against in bench/rpc.
// The request body is already a valid gRPC-framed EchoResponse (EchoRequest and EchoResponse
// share their wire format), so copying it back plus a grpc-status trailer is a correct gRPC
// answer, which `run` checks with a real grpcio client before loading it.
//
//   KestrelEcho --port N      prints READY on stdout once listening on 127.0.0.1:N
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microservices.Bench.Rpc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

if (PortArgument.Parse(args, "KestrelEcho") is not { } port)
{
    return 2;
}

// Slim builder: no hosting startup, no static files, no routing we don't use.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
    // h2load opens 16 streams per connection; Kestrel's default of 100 is enough, but say so.
    kestrel.Limits.Http2.MaxStreamsPerConnection = 128;
});

var app = builder.Build();
app.Run(Echo);
await app.StartAsync();
Console.WriteLine("READY");
await app.WaitForShutdownAsync();
return 0;

static async Task Echo(HttpContext context)
{
    var response = context.Response;
    response.ContentType = "application/grpc";
    PipeReader input = context.Request.BodyReader;
    PipeWriter output = response.BodyWriter;
    while (true)
    {
        ReadResult read = await input.ReadAsync();
        foreach (ReadOnlyMemory<byte> segment in read.Buffer)
        {
            output.Write(segment.Span);
        }
        input.AdvanceTo(read.Buffer.End);
        if (read.IsCompleted)
        {
            break;
        }
    }
    response.AppendTrailer("grpc-status", "0");
    await output.FlushAsync();
}
