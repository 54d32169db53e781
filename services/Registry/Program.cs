using Microservices.Hosting;
using Microservices.Registry.Extensions;
using Microservices.Registry.Grpc;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults("registry", defaultPort: 50052);
builder.AddRegistryServices();

var app = builder.Build();
app.MapGrpcService<ModelRegistryService>();
app.MapServiceDefaults();

// A corrupt database (or a failed migration) ends the process with a clear message and exit code 1.
return await app.RunRegistryAsync();
