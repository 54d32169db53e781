using Microservices.Registry.Cli;
using Spectre.Console;

return await RegistryCli.RunAsync(args, AnsiConsole.Console, Console.In, CancellationToken.None);
