import ArgumentParser
import MoorHTTP

/// `moor rm`: removes containers (-f kills a running one first).
struct RmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more containers")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Force the removal of a running container (uses SIGKILL)")
    var force = false
    @Flag(name: .shortAndLong, help: "Remove anonymous volumes associated with the container")
    var volumes = false
    @Argument(help: "CONTAINER...")
    var containers: [String]

    func run() async throws {
        let client = try global.client()
        var query = HTTPQuery()
        if force { query.append("force", "1") }
        if volumes { query.append("v", "1") }
        try await ForEachContainer.run(containers) { name throws(CLIError) in
            try await client.call("DELETE", "/containers/\(name)", query: query)
        }
    }
}
