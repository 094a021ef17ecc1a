import ArgumentParser
import Foundation
import MoorHTTP

/// `moor images`: the local images as docker's table.
struct ImagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Only show image IDs")
    var quiet = false
    @Flag(help: "Show digests")
    var digests = false
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output")
    var noTrunc = false
    @Option(name: .shortAndLong, help: "Filter output based on conditions provided (KEY=VALUE)")
    var filter: [String] = []
    @Argument(help: "[REPOSITORY[:TAG]]")
    var reference: String?

    func run() async throws {
        var entries = filter
        if let reference { entries.append("reference=\(reference)") }
        let query = HTTPQuery(try PsCommand.filters(entries).map { [("filters", $0)] } ?? [])
        let images = try await global.client().get("/images/json", query: query).arrayValue ?? []
        if quiet {
            Output.print(ImageTable.ids(images, truncate: !noTrunc))
        } else {
            Output.print(ImageTable.render(images, digests: digests, truncate: !noTrunc, now: Date().timeIntervalSince1970))
        }
    }
}
