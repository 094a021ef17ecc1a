#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Applies `docker import --change` instructions (Dockerfile lines) to an
/// image's container config, as Docker's builder does for import and
/// commit: CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME and
/// STOPSIGNAL. Docker joins the changes with newlines and parses them as one
/// Dockerfile, so backslash continuations and comment lines work too.
enum ChangeParser {
    static func apply(_ changes: [String], to config: inout ContainerConfig) throws {
        var state = State()
        for line in logicalLines(changes.joined(separator: "\n")) {
            do {
                try apply(line, to: &config, state: &state)
            } catch let error as ImagesError {
                throw ImagesError.invalid("invalid change \"\(line)\": \(error.message)")
            }
        }
    }

    private struct State {
        /// ENTRYPOINT resets CMD unless a CMD came before it.
        var cmdSet = false
    }

    /// Lines with continuations joined; blank and comment lines dropped.
    static func logicalLines(_ text: String) -> [String] {
        var lines = [String]()
        var current = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingTrailingSpace()
            let trimmed = line.drop { ShellWords.isSpace($0.unicodeScalars.first ?? " ") }
            if trimmed.hasPrefix("#") { continue }
            if line.hasSuffix("\\") {
                current += line.dropLast()
                continue
            }
            current += line
            if !current.allSatisfy(\.isWhitespace) { lines.append(current.trimmingLeadingSpace()) }
            current = ""
        }
        if !current.allSatisfy(\.isWhitespace) { lines.append(current.trimmingLeadingSpace()) }
        return lines
    }

    private static func apply(_ line: String, to config: inout ContainerConfig, state: inout State) throws {
        let instruction = String(line.prefix { !$0.isWhitespace })
        let rest = String(line.dropFirst(instruction.count)).trimmingLeadingSpace()
        let keyword = instruction.uppercased()
        if rest.hasPrefix("--") {
            let flag = rest.dropFirst(2).prefix { !$0.isWhitespace && $0 != "=" }
            throw ImagesError.invalid("\(keyword): unknown flag: \(flag)")
        }
        let env = environment(config)
        switch keyword {
        case "CMD":
            let cmd = try command(rest, keyword)
            config.cmd = cmd.isEmpty ? nil : cmd
            state.cmdSet = true
        case "ENTRYPOINT":
            let entrypoint = try command(rest, keyword)
            config.entrypoint = entrypoint.isEmpty ? nil : entrypoint
            if !state.cmdSet { config.cmd = nil }
        case "ENV": try applyEnv(rest, env: env, to: &config)
        case "LABEL": try applyLabels(rest, env: env, to: &config)
        case "WORKDIR": config.workingDir = workdir(try single(rest, keyword, env), current: config.workingDir)
        case "USER": config.user = try single(rest, keyword, env)
        case "EXPOSE": try applyExpose(rest, env: env, to: &config)
        case "VOLUME": try applyVolumes(rest, env: env, to: &config)
        case "STOPSIGNAL": config.stopSignal = try ChangeValues.signal(try single(rest, keyword, env))
        case "ONBUILD": throw ImagesError.invalid("ONBUILD is not supported by moor's import")
        case "HEALTHCHECK": throw ImagesError.invalid("HEALTHCHECK is not supported by moor's import yet")
        default: throw ImagesError.invalid("\(keyword) is not a valid change command")
        }
    }

    /// CMD and ENTRYPOINT: a JSON array of strings is the exec form,
    /// anything else the shell form, run by /bin/sh -c.
    private static func command(_ rest: String, _ keyword: String) throws -> [String] {
        if let array = try jsonStrings(rest) { return array }
        guard !rest.isEmpty else { throw ImagesError.invalid("\(keyword) requires at least one argument") }
        return ["/bin/sh", "-c", rest]
    }

    /// The array when `text` is a JSON array of strings; nil when it is not
    /// JSON (then it is shell form); an error for a JSON array of other values.
    static func jsonStrings(_ text: String) throws -> [String]? {
        guard text.hasPrefix("[") else { return nil }
        let data = Data(text.utf8)
        if let strings = try? JSONDecoder().decode([String].self, from: data) { return strings }
        if (try? JSONDecoder().decode([AnyJSON].self, from: data)) != nil {
            throw ImagesError.invalid("when using JSON array syntax, arrays must be comprised of strings only")
        }
        return nil
    }

    private struct AnyJSON: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    /// The whole argument as one word (WORKDIR, USER, STOPSIGNAL).
    private static func single(_ rest: String, _ keyword: String, _ env: [String: String]) throws -> String {
        let value = try ShellWords.process(rest, env: env)
        guard !rest.isEmpty, !value.isEmpty else { throw ImagesError.invalid("\(keyword) requires exactly one argument") }
        return value
    }

    /// A relative WORKDIR is relative to the previous one; the result is
    /// always absolute and clean.
    private static func workdir(_ requested: String, current: String?) -> String {
        let joined = requested.hasPrefix("/") ? requested : "/" + (current ?? "") + "/" + requested
        var parts = [Substring]()
        for part in joined.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    private static func environment(_ config: ContainerConfig) -> [String: String] {
        var result = [String: String]()
        for entry in config.env ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    private static func applyEnv(_ rest: String, env: [String: String], to config: inout ContainerConfig) throws {
        var list = config.env ?? []
        // All pairs of one ENV see the environment from before it, as in Docker.
        for (key, value) in try ChangeValues.pairs(rest, "ENV", env: env) {
            let entry = "\(key)=\(value)"
            if let index = list.firstIndex(where: { $0.hasPrefix(key + "=") || $0 == key }) {
                list[index] = entry
            } else {
                list.append(entry)
            }
        }
        config.env = list
    }

    private static func applyLabels(_ rest: String, env: [String: String], to config: inout ContainerConfig) throws {
        var labels = config.labels ?? [:]
        for (key, value) in try ChangeValues.pairs(rest, "LABEL", env: env) { labels[key] = value }
        config.labels = labels
    }

    private static func applyExpose(_ rest: String, env: [String: String], to config: inout ContainerConfig) throws {
        let words = rest.split(whereSeparator: \.isWhitespace)
        guard !words.isEmpty else { throw ImagesError.invalid("EXPOSE requires at least one argument") }
        var ports = config.exposedPorts ?? [:]
        for word in words {
            for port in try ChangeValues.ports(try ShellWords.process(String(word), env: env)) {
                ports[port] = EmptyObject()
            }
        }
        config.exposedPorts = ports
    }

    private static func applyVolumes(_ rest: String, env: [String: String], to config: inout ContainerConfig) throws {
        let words = try jsonStrings(rest) ?? rest.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !words.isEmpty else { throw ImagesError.invalid("VOLUME requires at least one argument") }
        var volumes = config.volumes ?? [:]
        for word in words {
            let path = try ShellWords.process(word, env: env).trimmingLeadingSpace().trimmingTrailingSpace()
            guard !path.isEmpty else { throw ImagesError.invalid("VOLUME specified can not be an empty string") }
            volumes[path] = EmptyObject()
        }
        config.volumes = volumes
    }
}

extension StringProtocol {
    func trimmingLeadingSpace() -> String {
        String(drop { $0.isWhitespace })
    }

    func trimmingTrailingSpace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
