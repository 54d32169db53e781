// microservices.bench.v1.EchoService on plain grpc-dotnet: AddGrpc, MapGrpcService, h2c on
// 127.0.0.1:PORT, logging at Warning, nothing else. The baseline for our host defaults.
//
//   PlainGrpcEcho --port N      prints READY on stdout once listening
using System.Net;
using Microservices.Bench.Rpc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

if (PortArgument.Parse(args, "PlainGrpcEcho") is not { } port)
{
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel =>
    kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
builder.Services.AddGrpc();

var app = builder.Build();
app.MapGrpcService<EchoHandler>();
await app.StartAsync();
Console.WriteLine("READY");
await app.WaitForShutdownAsync();
return 0;
