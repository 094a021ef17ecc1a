import ArgumentParser

/// `moor version`: this CLI's and the daemon's versions, laid out as
/// `docker version` lays them out.
struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Show the moor version information")

    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Format the output using a template ('{{.Server.Version}}')")
    var format: String?

    static var clientArch: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }

    static var clientInfo: JSON {
        .object([
            ("Version", .string(MoorCommand.version)), ("ApiVersion", .string(String(DaemonClient.apiPrefix.dropFirst(2)))),
            ("GoVersion", "swift6"), ("Os", "linux"), ("Arch", .string(clientArch)),
        ])
    }

    func run() async throws {
        let client = try global.client()
        let server: JSON
        do {
            server = try await client.get("/version")
        } catch {
            Output.print(Self.clientText)
            throw error
        }
        if let format {
            let all = JSON.object([("Client", Self.clientInfo), ("Server", server)])
            Output.print(try FormatTemplate(format).render(all) + "\n")
            return
        }
        Output.print(Self.clientText + "\n" + Self.serverText(server))
    }

    static func line(_ indent: Int, _ label: String, _ value: String) -> String {
        let head = String(repeating: " ", count: indent) + label + ":"
        return head.padding(toLength: max(head.count + 1, 20), withPad: " ", startingAt: 0) + value + "\n"
    }

    static var clientText: String {
        "Client:\n" + line(1, "Version", MoorCommand.version)
            + line(1, "API version", String(DaemonClient.apiPrefix.dropFirst(2)))
            + line(1, "OS/Arch", "linux/" + clientArch) + line(1, "Context", "default")
    }

    static func serverText(_ server: JSON) -> String {
        var out = "Server: " + (server["Platform"]?["Name"]?.stringValue ?? "") + "\n"
        for component in server["Components"]?.arrayValue ?? [] {
            let details = component["Details"]
            out += " " + (component["Name"]?.stringValue ?? "") + ":\n"
            out += line(2, "Version", component["Version"]?.stringValue ?? "")
            if component["Name"]?.stringValue == "Engine" {
                let api = server["ApiVersion"]?.stringValue ?? ""
                out += line(2, "API version", "\(api) (minimum version \(server["MinAPIVersion"]?.stringValue ?? ""))")
                out += line(2, "Go version", server["GoVersion"]?.stringValue ?? "")
                out += line(2, "Git commit", server["GitCommit"]?.stringValue ?? "")
                out += line(2, "Built", server["BuildTime"]?.stringValue ?? "")
                out += line(2, "OS/Arch", (server["Os"]?.stringValue ?? "") + "/" + (server["Arch"]?.stringValue ?? ""))
                out += line(2, "Experimental", details?["Experimental"]?.stringValue ?? "false")
            } else if let commit = details?["GitCommit"]?.stringValue {
                out += line(2, "GitCommit", commit)
            }
        }
        return out
    }
}
