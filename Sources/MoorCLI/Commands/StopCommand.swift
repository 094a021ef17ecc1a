import ArgumentParser
import MoorHTTP

/// `moor stop`: the stop signal, then SIGKILL after the timeout.
struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop one or more running containers")

    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("t"), .customLong("time"), .customLong("timeout")], parsing: .unconditional, help: "Seconds to wait before killing the container")
    var time: Int?
    @Option(name: .shortAndLong, help: "Signal to send to the container")
    var signal: String?
    @Argument(help: "CONTAINER...")
    var containers: [String]

    func run() async throws {
        let client = try global.client()
        var query = HTTPQuery()
        if let time { query.append("t", String(time)) }
        if let signal { query.append("signal", signal) }
        try await ForEachContainer.run(containers) { name throws(CLIError) in
            try await client.call("POST", "/containers/\(name)/stop", query: query)
        }
    }
}
