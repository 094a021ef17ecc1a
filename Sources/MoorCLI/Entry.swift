#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser

/// The whole CLI as a library entry point; the `moor` executable only calls
/// `main`, so everything here is testable.
public enum MoorCLI {
    /// Parses `arguments` (without the program name), runs the verb and
    /// ends the process with docker's exit code for the outcome.
    public static func main(_ arguments: [String]) async -> Never {
        // A closed stdout (`moor logs c | head`) must end a copy with an
        // error from write(2), not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let code = await run(arguments)
        Terminal.restore()
        exit(code)
    }

    /// Runs one invocation and returns its exit code.
    static func run(_ arguments: [String]) async -> Int32 {
        do {
            var command = try MoorCommand.parseAsRoot(GlobalOptions.reorder(arguments))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let error as CLIError {
            Terminal.restore()
            Output.error(error.message)
            return error.exitCode
        } catch let exit as ProcessExit {
            return exit.code
        } catch {
            return report(parsing: error, verb: arguments.first)
        }
    }

    /// Help and version go to stdout with 0; a usage error to stderr with
    /// 125, as docker answers an unknown flag.
    private static func report(parsing error: any Error, verb: String?) -> Int32 {
        if MoorCommand.exitCode(for: error) == .success {
            Output.print(MoorCommand.fullMessage(for: error) + "\n")
            return 0
        }
        let known = MoorCommand.configuration.subcommands.map { $0.configuration.commandName }
        let command = verb.flatMap { known.contains($0) ? "moor \($0)" : nil } ?? "moor"
        Output.error(MoorCommand.message(for: error))
        Output.print("See '\(command) --help'.\n", to: Output.stderr)
        return 125
    }
}
