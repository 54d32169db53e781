// Closed-loop unary echo load with the generated grpc-dotnet client over GrpcChannels.Create, as
// every caller outside a host builds its channel: CONNECTIONS channels (each its own handler,
// so its own HTTP/2 connection while STREAMS stays under the server's 100 streams) × STREAMS
// calls outstanding per channel, the same shape as the C++ and grpcio clients.
//
//   GrpcEchoClient --target 127.0.0.1:PORT --connections 4 --streams 16 --duration 10 --warmup 2 --payload 64
//   prints: rps=<float> p50_ms=<float> p99_ms=<float> errors=<int>
using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Microservices.Bench.V1;
using Microservices.Clients;

var options = ParseArguments(args);
var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[options.Payload]) };
var channels = Enumerable.Range(0, options.Connections)
    .Select(_ => GrpcChannels.Create("http://" + options.Target))
    .ToArray();
var clients = channels.Select(channel => new EchoService.EchoServiceClient(channel)).ToArray();

var warmupEnds = Stopwatch.GetTimestamp() + (long)(options.Warmup * Stopwatch.Frequency);
var runEnds = warmupEnds + (long)(options.Duration * Stopwatch.Frequency);
var workers = clients.SelectMany(client => Enumerable.Range(0, options.Streams).Select(_ => RunWorkerAsync(client))).ToArray();
var results = await Task.WhenAll(workers);

var latencies = results.SelectMany(r => r.Latencies).Order().ToArray();
var errors = results.Sum(r => r.Errors);
double Percentile(double q) => latencies.Length == 0 ? 0 : latencies[Math.Min(latencies.Length - 1, (int)(q * latencies.Length))];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"rps={latencies.Length / options.Duration:F1} p50_ms={Percentile(0.50):F3} p99_ms={Percentile(0.99):F3} errors={errors}"));
foreach (var channel in channels)
{
    channel.Dispose();
}

return errors == 0 ? 0 : 1;

async Task<(List<double> Latencies, int Errors)> RunWorkerAsync(EchoService.EchoServiceClient client)
{
    var latencies = new List<double>(1 << 16);
    var errors = 0;
    while (true)
    {
        var started = Stopwatch.GetTimestamp();
        if (started >= runEnds)
        {
            return (latencies, errors);
        }

        try
        {
            var response = await client.EchoAsync(request);
            if (response.Payload.Length != options.Payload)
            {
                errors++;
            }
        }
        catch (RpcException)
        {
            errors++;
        }

        var finished = Stopwatch.GetTimestamp();
        if (started >= warmupEnds && finished <= runEnds)
        {
            latencies.Add(Stopwatch.GetElapsedTime(started, finished).TotalMilliseconds);
        }
    }
}

static (string Target, int Connections, int Streams, double Duration, double Warmup, int Payload) ParseArguments(string[] args)
{
    var values = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        values[args[i].TrimStart('-')] = args[i + 1];
    }

    string Get(string name, string fallback) => values.GetValueOrDefault(name, fallback);
    if (!values.ContainsKey("target"))
    {
        Console.Error.WriteLine("usage: GrpcEchoClient --target HOST:PORT [--connections 4] [--streams 16] [--duration 10] [--warmup 2] [--payload 64]");
        Environment.Exit(2);
    }

    return (values["target"],
        int.Parse(Get("connections", "4"), CultureInfo.InvariantCulture),
        int.Parse(Get("streams", "16"), CultureInfo.InvariantCulture),
        double.Parse(Get("duration", "10"), CultureInfo.InvariantCulture),
        double.Parse(Get("warmup", "2"), CultureInfo.InvariantCulture),
        int.Parse(Get("payload", "64"), CultureInfo.InvariantCulture));
}
