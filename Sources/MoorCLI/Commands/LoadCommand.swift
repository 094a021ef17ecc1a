import ArgumentParser
import MoorHTTP

/// `moor load`: an image archive (`docker save` or OCI layout, plain or
/// compressed) from a file or stdin, streamed to `POST /images/load`.
/// A progress bar on a terminal; then the daemon's lines ("Loaded image:
/// busybox:latest"), as docker prints them.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Load an image from a tar archive or STDIN"
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Read from tar archive file, instead of STDIN")
    var input: String?
    @Flag(name: .shortAndLong, help: "Suppress the load output")
    var quiet = false

    func run() async throws {
        if input == nil && Terminal.isTerminal(0) {
            throw CLIError("requested load from stdin, but stdin is empty")
        }
        let client = try global.client()
        let source = try UploadSource(path: input ?? "-")
        let bar = !quiet && Terminal.isTerminal(Output.stdout) ? TransferBar(label: "Loading", total: source.length) : nil
        let request = HTTPClientRequest(
            method: "POST", target: DaemonClient.target("/images/load", HTTPQuery([("quiet", "1")])),
            headers: ["Content-Type": "application/x-tar"],
            body: .stream(length: source.length) { writer in
                try await source.send(to: writer) { sent in bar?.update(sent) }
            }
        )
        let response = try await client.send(request)
        var lines = LineSplitter()
        do {
            for try await chunk in response.body {
                for line in lines.feed(chunk.readableBytesView) { try show(line, clearing: bar) }
            }
            if let last = lines.rest() { try show(last, clearing: bar) }
        } catch let error as CLIError {
            bar?.clear()
            throw error
        } catch {
            bar?.clear()
            throw client.describe(error)
        }
        bar?.clear()
    }

    /// One JSON message: a `stream` text is printed, an error ends the load.
    private func show(_ line: String, clearing bar: TransferBar?) throws(CLIError) {
        let message = try JSONParser.parse(line)
        if let error = message["errorDetail"]?["message"]?.stringValue ?? message["error"]?.stringValue {
            throw CLIError(error)
        }
        if let text = message["stream"]?.stringValue {
            bar?.clear()
            Output.print(text)
        }
    }
}

/// Splits a byte stream into lines (JSON messages), across chunks.
struct LineSplitter {
    private var pending = [UInt8]()

    mutating func feed(_ bytes: some Sequence<UInt8>) -> [String] {
        var lines = [String]()
        for byte in bytes {
            if byte == 0x0a {
                if !pending.isEmpty { lines.append(String(decoding: pending, as: UTF8.self)) }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return lines
    }

    /// A last line without its newline.
    mutating func rest() -> String? {
        defer { pending.removeAll() }
        return pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
    }
}
