import ArgumentParser

/// `moor inspect`: the daemon's JSON for containers, then images, by name
/// or ID; indented as docker prints it, or through `--format`.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Return low-level information on containers or images")

    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Format output using a template such as '{{.State.Status}}' or '{{json .Config}}'")
    var format: String?
    @Option(name: .customLong("type"), help: "Only search for this type of object (container or image)")
    var type: String?
    @Argument(help: "NAME|ID...")
    var names: [String]

    func run() async throws {
        let template = try format.map { text throws(CLIError) in try FormatTemplate(text) }
        guard type == nil || type == "container" || type == "image" else {
            throw CLIError("\"\(type ?? "")\" is not a valid value for --type")
        }
        let client = try global.client()
        var found: [JSON] = []
        var missing: [String] = []
        for name in names {
            if let object = try await lookup(client, name) { found.append(object) } else { missing.append(name) }
        }
        Output.print(try Self.render(found, template: template))
        for name in missing { Output.error("Error: No such object: \(name)") }
        if !missing.isEmpty { throw ProcessExit.failure }
    }

    /// The object named `name`, or nil if the daemon knows none.
    private func lookup(_ client: DaemonClient, _ name: String) async throws(CLIError) -> JSON? {
        let paths = [("container", "/containers/\(name)/json"), ("image", "/images/\(name)/json")]
        for (kind, path) in paths where type == nil || type == kind {
            do throws(CLIError) {
                return try await client.get(path)
            } catch where error.isNotFound {
                continue
            }
        }
        return nil
    }

    static func render(_ objects: [JSON], template: FormatTemplate?) throws(CLIError) -> String {
        guard let template else { return JSONWriter.indented(.array(objects)) + "\n" }
        var out = ""
        for object in objects { out += try template.render(object) + "\n" }
        return out
    }
}
