import ArgumentParser
import Foundation
import MoorHTTP

/// `moor run`: docker's flow — create, attach, wait for the next exit (or
/// the removal with --rm), start — then the container's exit code.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Create and run a new container from an image",
        usage: "moor run [OPTIONS] IMAGE [COMMAND] [ARG...]", helpNames: [.long]
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: ContainerFlags
    @Argument(parsing: .captureForPassthrough, help: "IMAGE [COMMAND] [ARG...]")
    var imageAndCommand: [String] = []

    func run() async throws {
        // Passthrough capture takes every flag after the first unknown one,
        // --help included.
        if imageAndCommand.first == "--help" { throw CleanExit.helpRequest(Self.self) }
        do {
            try await execute()
        } catch let error as CLIError where error.exitCode == 1 {
            // Every failure of run itself is 125, so scripts can tell it
            // from the container's own exit codes.
            throw error.withExitCode(125)
        }
    }

    private func execute() async throws {
        guard let image = imageAndCommand.first, !image.hasPrefix("-") else {
            throw CLIError.usage(imageAndCommand.first.map { "unknown flag: \($0)" } ?? "\"moor run\" requires at least 1 argument.")
        }
        let client = try global.client()
        let id = try await create(client, image: image)
        if flags.detach {
            try await start(client, id: id)
            Output.print(id + "\n")
            return
        }
        let code = try await runAttached(client, id: id)
        throw ProcessExit(code: code)
    }

    private func create(_ client: DaemonClient, image: String) async throws(CLIError) -> String {
        let context = CreateBody.Context(
            lookupEnv: { ProcessInfo.processInfo.environment[$0] },
            readFile: { FileManager.default.contents(atPath: $0).map(Array.init) },
            consoleSize: flags.tty ? Terminal.size() : nil
        )
        let body = try CreateBody.make(flags, image: image, command: Array(imageAndCommand.dropFirst()), context: context)
        let query = HTTPQuery(flags.name.map { [("name", $0)] } ?? [])
        let created: JSON
        do throws(CLIError) {
            created = try await client.json("POST", "/containers/create", query: query, body: body)
        } catch let error where error.isNotFound && error.message.contains("No such image") {
            Output.print("Unable to find image '\(image)' locally\n", to: Output.stderr)
            throw error
        }
        for warning in created["Warnings"]?.stringArray ?? [] {
            Output.print("WARNING: \(warning)\n", to: Output.stderr)
        }
        guard let id = created["Id"]?.stringValue else { throw CLIError("the daemon's answer to create has no Id") }
        return id
    }

    private func runAttached(_ client: DaemonClient, id: String) async throws -> Int32 {
        let stream = try await client.hijack("/containers/\(id)/attach", query: HTTPQuery([
            ("stream", "1"), ("stdin", flags.interactive ? "1" : "0"), ("stdout", "1"), ("stderr", "1"),
        ]))
        let condition = flags.autoRemove ? "removed" : "next-exit"
        let wait = try await client.send("POST", "/containers/\(id)/wait", query: HTTPQuery([("condition", condition)]))
        if flags.tty && flags.interactive && Terminal.isTerminal(0) { try Terminal.makeRaw() }
        do {
            try await start(client, id: id)
        } catch {
            Terminal.restore()
            await stream.output.finish()
            throw error
        }
        let resize = flags.tty && Terminal.isTerminal(Output.stdout)
            ? SessionControl.followResize(client, path: "/containers/\(id)/resize") : nil
        let signals = flags.tty ? nil : SessionControl.forwardSignals(client, containerID: id)
        defer { resize?.cancel(); signals?.cancel() }
        try await SessionIO.run(stream, tty: flags.tty, forwardStdin: flags.interactive)
        Terminal.restore()
        return try await Self.exitCode(client, wait)
    }

    /// Starts the container; a program that cannot run gets 126 or 127.
    private func start(_ client: DaemonClient, id: String) async throws(CLIError) {
        do {
            try await client.call("POST", "/containers/\(id)/start")
        } catch {
            if flags.autoRemove {
                try? await client.call("DELETE", "/containers/\(id)", query: HTTPQuery([("force", "1")]))
            }
            throw error.withExitCode(Self.startFailureCode(error.message))
        }
    }

    /// docker's rule: "not found" is 127, "permission denied" or "is a
    /// directory" is 126, anything else 125.
    static func startFailureCode(_ message: String) -> Int32 {
        let text = message.lowercased()
        if text.contains("executable file not found") || text.contains("no such file or directory") { return 127 }
        if text.contains("permission denied") || text.contains("is a directory") { return 126 }
        return 125
    }

    /// The wait answer: `{"StatusCode": N, "Error": {"Message": …} | null}`.
    static func exitCode(_ client: DaemonClient, _ wait: HTTPClientResponse) async throws(CLIError) -> Int32 {
        let result = try JSONParser.parse(try await client.collect(wait.body).readableBytesView)
        if let message = result["Error"]?["Message"]?.stringValue, !message.isEmpty {
            throw CLIError("Error waiting for container: \(message)", exitCode: 125)
        }
        guard let code = result["StatusCode"]?.intValue else { throw CLIError("the daemon's wait answer has no StatusCode", exitCode: 125) }
        return Int32(truncatingIfNeeded: code)
    }
}
