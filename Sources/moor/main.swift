import MoorCLI

// All of the CLI lives in MoorCLI so that it can be tested; this only runs it.
await MoorCLI.main(Array(CommandLine.arguments.dropFirst()))
