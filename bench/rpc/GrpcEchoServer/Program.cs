// microservices.bench.v1.EchoService behind our full host defaults, exactly as a service's
// Program.cs: AddServiceDefaults (h2c on 127.0.0.1:PORT, gRPC limits and the metadata-limit
// interceptor, OpenTelemetry tracing and metrics, console logging), the handler, then
// MapServiceDefaults (health, reflection).
//
//   GrpcEchoServer --port N      prints READY on stdout once listening
using Microservices.Bench.Rpc;
using Microservices.Hosting;

if (PortArgument.Parse(args, "GrpcEchoServer") is not { } port)
{
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults("bench-echo", defaultPort: port);

var app = builder.Build();
app.MapGrpcService<EchoHandler>();
app.MapServiceDefaults();
await app.StartAsync();
Console.WriteLine("READY");
await app.WaitForShutdownAsync();
return 0;
