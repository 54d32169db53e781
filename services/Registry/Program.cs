using Microservices.Hosting;
using Microservices.Registry.Extensions;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults("registry", defaultPort: 50052);
builder.AddRegistryServices();

var app = builder.Build();
app.MapServiceDefaults();

// A corrupt database (or a failed migration) ends the process with a clear message and exit code 1.
return await app.RunRegistryAsync();
