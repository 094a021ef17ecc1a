#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MoorPluginKit

/// Docker's common log options, which add extra attributes to each entry:
/// `labels` and `env` (comma-separated names of container labels and
/// environment variables), `labels-regex` and `env-regex` (the same chosen
/// by a regular expression), and `tag` (a template such as
/// `{{.Name}}/{{.ID}}`).
public enum LogAttributes {
    /// The option names, for a driver's set of allowed options.
    public static let optionNames: Set<String> = ["labels", "labels-regex", "env", "env-regex", "tag"]

    /// Checks the regular expressions and the tag template without a container.
    public static func validate(_ options: LogOptionReader) throws {
        for option in ["labels-regex", "env-regex"] {
            _ = try regex(option, options)
        }
        if let template = options.options["tag"] {
            _ = try LogTag.render(template, for: LogContainer(id: "", name: "", directory: ""), options)
        }
    }

    /// The attributes for one container, as dockerd computes them: a label
    /// or variable the container lacks is left out.
    public static func attributes(for container: LogContainer, _ options: LogOptionReader) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in names(options.options["labels"]) {
            if let value = container.labels[name] { out[name] = value }
        }
        if let pattern = try regex("labels-regex", options) {
            for (key, value) in container.labels where key.contains(pattern) { out[key] = value }
        }
        let env = environment(container.env)
        for name in names(options.options["env"]) {
            if let value = env[name] { out[name] = value }
        }
        if let pattern = try regex("env-regex", options) {
            for (key, value) in env where key.contains(pattern) { out[key] = value }
        }
        if let template = options.options["tag"], !template.isEmpty {
            out["tag"] = try LogTag.render(template, for: container, options)
        }
        return out
    }

    private static func names(_ list: String?) -> [String] {
        guard let list, !list.isEmpty else { return [] }
        return list.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    private static func environment(_ env: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for item in env {
            guard let equals = item.firstIndex(of: "=") else { continue }
            out[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return out
    }

    private static func regex(_ option: String, _ options: LogOptionReader) throws -> Regex<AnyRegexOutput>? {
        guard let pattern = options.options[option], !pattern.isEmpty else { return nil }
        do {
            return try Regex(pattern)
        } catch {
            throw options.invalid(option, "invalid regular expression \"\(pattern)\": \(error)")
        }
    }
}

/// Docker's `tag` log option: literal text with `{{.Field}}` placeholders.
/// moor renders the fields Docker documents for log tags; other template
/// actions (functions, pipelines) are refused by name rather than ignored.
enum LogTag {
    static func render(_ template: String, for container: LogContainer, _ options: LogOptionReader) throws -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw options.invalid("tag", "unclosed \"{{\" in template \"\(template)\"")
            }
            let action = rest[open.upperBound..<close.lowerBound].trimmingSpaces
            guard let value = field(action, container) else {
                throw options.invalid("tag", "unsupported template action {{\(action)}}; moor supports "
                    + "{{.ID}}, {{.FullID}}, {{.Name}}, {{.ImageID}}, {{.ImageFullID}}, {{.ImageName}}, "
                    + "{{.DaemonName}} and {{.Hostname}}")
            }
            out += value
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    private static func field(_ action: String, _ container: LogContainer) -> String? {
        switch action {
        case ".ID": shortID(container.id)
        case ".FullID": container.id
        case ".Name": container.name.hasPrefix("/") ? String(container.name.dropFirst()) : container.name
        case ".ImageID": shortID(container.imageID)
        case ".ImageFullID": container.imageID
        case ".ImageName": container.imageName
        case ".DaemonName": "moor"
        case ".Hostname": hostname()
        default: nil
        }
    }

    /// Docker's short id: the first 12 characters, without an algorithm prefix.
    private static func shortID(_ id: String) -> String {
        let bare = id.firstIndex(of: ":").map { id[id.index(after: $0)...] } ?? Substring(id)
        return String(bare.prefix(12))
    }

    private static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
