import ArgumentParser
import MoorHTTP

/// `moor import`: a root filesystem tarball (a file, or `-` for stdin)
/// streamed to `POST /images/create?fromSrc=-`; prints the new image's ID.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import the contents from a tarball to create a filesystem image",
        usage: "moor import [OPTIONS] file|- [REPOSITORY[:TAG]]"
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("c"), .customLong("change")], help: "Apply Dockerfile instruction to the created image")
    var change: [String] = []
    @Option(name: .shortAndLong, help: "Set commit message for imported image")
    var message: String?
    @Option(help: "Set platform if server is multi-platform capable")
    var platform: String?
    @Argument(help: "file|-")
    var file: String
    @Argument(help: "REPOSITORY[:TAG]")
    var reference: String?

    func run() async throws {
        let query = try Self.query(reference: reference, changes: change, message: message, platform: platform)
        let client = try global.client()
        let source = try UploadSource(path: file)
        let progress = Terminal.isTerminal(Output.stdout) ? ProgressLine(total: source.length) : nil
        let request = HTTPClientRequest(
            method: "POST", target: DaemonClient.target("/images/create", query),
            headers: ["Content-Type": "application/x-tar"],
            body: .stream(length: source.length) { writer in
                try await source.send(to: writer) { sent in progress?.update(sent) }
            }
        )
        let response = try await client.send(request)
        let answer = try await client.collect(response.body)
        progress?.clear()
        Output.print(try Self.statusLines(String(buffer: answer)))
    }

    static func query(reference: String?, changes: [String], message: String?, platform: String?) throws(CLIError) -> HTTPQuery {
        var query = HTTPQuery([("fromSrc", "-")])
        if let reference {
            let name = reference.split(separator: "@").first.map(String.init) ?? reference
            let repository = ImageTable.splitTag(name).0
            guard !repository.isEmpty, repository == repository.lowercased() else {
                throw CLIError("invalid reference format: repository name (\(repository)) must be lowercase")
            }
            query.append("repo", reference)
        }
        if let message { query.append("message", message) }
        if let platform { query.append("platform", platform) }
        for change in changes { query.append("changes", change) }
        return query
    }

    /// The daemon's JSON lines: each `status` is printed, an `error` fails.
    static func statusLines(_ text: String) throws(CLIError) -> String {
        var out = ""
        for line in text.split(whereSeparator: \.isNewline) where !line.isEmpty {
            let message = try JSONParser.parse(String(line))
            if let error = message["errorDetail"]?["message"]?.stringValue ?? message["error"]?.stringValue {
                throw CLIError(error)
            }
            if let status = message["status"]?.stringValue { out += status + "\n" }
        }
        return out
    }
}
