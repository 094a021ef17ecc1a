import ArgumentParser
import Foundation
import MoorHTTP

/// `moor ps`: running containers (all with -a) as docker's table.
struct PsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Show all containers (default shows just running)")
    var all = false
    @Flag(name: .shortAndLong, help: "Only display container IDs")
    var quiet = false
    @Option(name: .shortAndLong, help: "Filter output based on conditions provided (KEY=VALUE)")
    var filter: [String] = []
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output")
    var noTrunc = false

    func run() async throws {
        var query = HTTPQuery()
        if all { query.append("all", "1") }
        if let filters = try Self.filters(filter) { query.append("filters", filters) }
        let containers = try await global.client().get("/containers/json", query: query).arrayValue ?? []
        if quiet {
            Output.print(ContainerTable.ids(containers, truncate: !noTrunc))
        } else {
            Output.print(ContainerTable.render(containers, truncate: !noTrunc, now: Date().timeIntervalSince1970))
        }
    }

    /// `--filter K=V` → the API's `{"K":{"V":true}}` (nil for none).
    static func filters(_ entries: [String]) throws(CLIError) -> String? {
        guard !entries.isEmpty else { return nil }
        var grouped: [String: [String]] = [:]
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw CLIError("bad format of filter (expected name=value)") }
            grouped[parts[0].lowercased(), default: []].append(parts[1])
        }
        let object = JSON.object(grouped.keys.sorted().map { key in
            JSON.Member(key: key, value: .object((grouped[key] ?? []).map { JSON.Member(key: $0, value: .bool(true)) }))
        })
        return JSONWriter.compact(object)
    }
}
