import ArgumentParser
import MoorHTTP

/// `moor kill`: a signal (SIGKILL unless -s says otherwise).
struct KillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Kill one or more running containers")

    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Signal to send to the container")
    var signal: String?
    @Argument(help: "CONTAINER...")
    var containers: [String]

    func run() async throws {
        let client = try global.client()
        let query = HTTPQuery(signal.map { [("signal", $0)] } ?? [])
        try await ForEachContainer.run(containers) { name throws(CLIError) in
            try await client.call("POST", "/containers/\(name)/kill", query: query)
        }
    }
}
