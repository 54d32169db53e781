using Microservices.Blob.Cli;

return await BlobCommands.Build().Parse(args).InvokeAsync();
