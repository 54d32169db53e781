using Microservices.Export.Extensions;
using Microservices.Export.Grpc;
using Microservices.Hosting;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults("export", defaultPort: 50053, Extensions.ConfigureTelemetry);
builder.AddExportServices();

var app = builder.Build();
app.MapGrpcService<ExportGrpcService>();
app.MapServiceDefaults();
app.Run();
