// Our gRPC layer serving microservices.bench.v1.EchoService on 127.0.0.1:PORT (h2c), with the
// same Kestrel settings as KestrelEcho so the two rows differ only by the gRPC layer.
//
//   GrpcEchoServer --port N      prints READY on stdout once listening
using System.Net;
using Microservices.Bench.V1;
using Microservices.Grpc.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;

var port = args.Length == 2 && args[0] == "--port" && int.TryParse(args[1], out var p) ? p : 0;
if (port <= 0)
{
    Console.Error.WriteLine("usage: GrpcEchoServer --port N");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
    kestrel.Limits.Http2.MaxStreamsPerConnection = 128;
});
builder.Services.AddGrpcServer().AddService<EchoService>(EchoReflection.Descriptor.Services[0], ServiceLifetime.Singleton);

var app = builder.Build();
app.UseGrpcServices();
await app.StartAsync();
Console.WriteLine("READY");
await app.WaitForShutdownAsync();
return 0;

internal sealed class EchoService
{
    public Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context) =>
        Task.FromResult(new EchoResponse { Payload = request.Payload });
}
