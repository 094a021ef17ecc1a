import ArgumentParser
import Foundation
import MoorHTTP

/// `moor logs`: a container's output, split back into stdout and stderr
/// unless it has a TTY.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Fetch the logs of a container")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Follow log output")
    var follow = false
    @Flag(name: .shortAndLong, help: "Show timestamps")
    var timestamps = false
    @Option(help: "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
    var since: String?
    @Option(help: "Show logs before a timestamp or relative time")
    var until: String?
    @Option(name: [.customShort("n"), .customLong("tail")], help: "Number of lines to show from the end of the logs")
    var tail = "all"
    @Argument(help: "CONTAINER")
    var container: String

    func run() async throws {
        let client = try global.client()
        let info = try await client.get("/containers/\(container)/json")
        let tty = info["Config"]?["Tty"]?.boolValue ?? false
        let now = Date().timeIntervalSince1970
        var query = HTTPQuery([("stdout", "1"), ("stderr", "1"), ("tail", tail)])
        if follow { query.append("follow", "1") }
        if timestamps { query.append("timestamps", "1") }
        if let since { query.append("since", Self.timestamp(since, now: now)) }
        if let until { query.append("until", Self.timestamp(until, now: now)) }
        let response = try await client.send("GET", "/containers/\(container)/logs", query: query)
        var demuxer = StreamDemuxer()
        do {
            for try await chunk in response.body {
                let written = tty
                    ? Output.write(chunk.readableBytesView, to: Output.stdout)
                    : try SessionIO.write(demuxer.feed(chunk.readableBytesView))
                if !written { return }
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw client.describe(error)
        }
    }

    /// A relative time ("10m", "1h30m") becomes the absolute "seconds.nanos"
    /// it means, as the docker CLI sends it; anything else (RFC 3339, unix
    /// seconds) is passed on for the daemon to read.
    static func timestamp(_ value: String, now: Double) -> String {
        guard let seconds = HumanUnits.goDuration(value) else { return value }
        let instant = now - seconds
        let whole = instant.rounded(.down)
        let nanos = Int(((instant - whole) * 1e9).rounded())
        return String(format: "%.0f.%09d", whole, min(nanos, 999_999_999))
    }
}
