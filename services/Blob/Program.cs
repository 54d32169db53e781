using Microservices.Blob.Extensions;
using Microservices.Blob.Grpc;
using Microservices.Hosting;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults("blob", defaultPort: 50051, BlobTelemetry.Configure);
builder.AddBlobServices();

var app = builder.Build();
app.MapGrpcService<BlobGrpcService>();
app.MapServiceDefaults();
app.MapBlobGateway();
app.Run();
