import ArgumentParser
import Foundation
import MoorHTTP

/// `moor exec`: runs a command in a running container and exits with its
/// exit code (read from `/exec/{id}/json` once the output ends).
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Execute a command in a running container",
        usage: "moor exec [OPTIONS] CONTAINER COMMAND [ARG...]"
    )

    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Detached mode: run command in the background")
    var detach = false
    @Flag(name: .shortAndLong, help: "Keep STDIN open even if not attached")
    var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY")
    var tty = false
    @Option(name: .shortAndLong, help: "Set environment variables")
    var env: [String] = []
    @Option(name: .shortAndLong, help: "Username or UID (format: <name|uid>[:<group|gid>])")
    var user: String?
    @Option(name: .shortAndLong, help: "Working directory inside the container")
    var workdir: String?
    @Flag(help: "Give extended privileges to the command")
    var privileged = false
    @Argument(parsing: .captureForPassthrough, help: "CONTAINER COMMAND [ARG...]")
    var containerAndCommand: [String] = []

    func run() async throws {
        if containerAndCommand.first == "--help" || containerAndCommand.first == "-h" { throw CleanExit.helpRequest(Self.self) }
        guard containerAndCommand.count >= 2, let container = containerAndCommand.first, !container.hasPrefix("-") else {
            throw CLIError.usage("\"moor exec\" requires at least 2 arguments.")
        }
        let client = try global.client()
        let created = try await client.json("POST", "/containers/\(container)/exec", body: try body(lookupEnv: { ProcessInfo.processInfo.environment[$0] }))
        guard let id = created["Id"]?.stringValue else { throw CLIError("the daemon's answer to exec create has no Id") }
        let start = JSON.object([("Detach", .bool(detach)), ("Tty", .bool(tty))])
        if detach {
            try await client.call("POST", "/exec/\(id)/start", body: start)
            return
        }
        let stream = try await client.hijack("/exec/\(id)/start", body: start)
        if tty && interactive && Terminal.isTerminal(0) { try Terminal.makeRaw() }
        let resize = tty && Terminal.isTerminal(Output.stdout) ? SessionControl.followResize(client, path: "/exec/\(id)/resize") : nil
        defer { resize?.cancel() }
        try await SessionIO.run(stream, tty: tty, forwardStdin: interactive)
        Terminal.restore()
        let result = try await client.get("/exec/\(id)/json")
        throw ProcessExit(code: Int32(truncatingIfNeeded: result["ExitCode"]?.intValue ?? 0))
    }

    /// The body of `POST /containers/{id}/exec`.
    func body(lookupEnv: (String) -> String? = { _ in nil }) throws(CLIError) -> JSON {
        .object([
            ("User", .string(user ?? "")), ("Privileged", .bool(privileged)), ("Tty", .bool(tty)),
            ("AttachStdin", .bool(interactive && !detach)), ("AttachStderr", .bool(!detach)),
            ("AttachStdout", .bool(!detach)), ("Detach", .bool(detach)), ("DetachKeys", ""),
            ("Env", .strings(try FlagParsers.environment(env, lookup: lookupEnv))),
            ("WorkingDir", .string(workdir ?? "")), ("Cmd", .strings(Array(containerAndCommand.dropFirst()))),
        ])
    }
}
