/// How `stop`, `kill` and `rm` treat several containers, as docker does:
/// each is tried, the name given is printed on success, each failure is
/// printed, and the command exits 1 if any failed.
enum ForEachContainer {
    static func run(_ names: [String], _ action: (String) async throws(CLIError) -> Void) async throws {
        var failed = false
        for name in names {
            do {
                try await action(name)
                Output.print(name + "\n")
            } catch {
                Output.error(error.message)
                failed = true
            }
        }
        if failed { throw ProcessExit.failure }
    }
}

extension ProcessExit {
    /// Exit 1, the failures already printed.
    static let failure = ProcessExit(code: 1)
}
