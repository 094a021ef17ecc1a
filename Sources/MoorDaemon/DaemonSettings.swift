import Foundation
import MoorEngine
import MoorPluginKit

/// What was given on the command line; nil / empty = not given.
public struct DaemonFlags: Sendable, Equatable {
    public var configFile: String?
    public var dataRoot: String?
    public var execRoot: String?
    public var hosts: [String] = []
    public var pidfile: String?
    public var liveRestore: Bool?
    public var logLevel: String?
    public var debug: Bool?
    public var logDriver: String?
    public var logOpts: [String: String] = [:]
    public var storageDriver: String?
    public var shimBinary: String?
    public var seccompProfile: String?

    public init() {}

    /// The flags' values under daemon.json's key names, for conflict checks.
    var asConfigKeys: [String: String] {
        var out: [String: String] = [:]
        if let dataRoot { out["data-root"] = dataRoot }
        if let execRoot { out["exec-root"] = execRoot }
        if !hosts.isEmpty { out["hosts"] = hosts.joined(separator: ",") }
        if let pidfile { out["pidfile"] = pidfile }
        if let liveRestore { out["live-restore"] = String(liveRestore) }
        if let logLevel { out["log-level"] = logLevel }
        if let debug { out["debug"] = String(debug) }
        if let logDriver { out["log-driver"] = logDriver }
        if !logOpts.isEmpty { out["log-opts"] = logOpts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }
        if let storageDriver { out["storage-driver"] = storageDriver }
        if let shimBinary { out["shim-binary"] = shimBinary }
        if let seccompProfile { out["seccomp-profile"] = seccompProfile }
        return out
    }
}

/// The daemon's settings: defaults, then daemon.json, then flags — a setting
/// given both as a flag and in the file is an error, as in dockerd.
public struct DaemonSettings: Sendable, Equatable {
    public static let defaultConfigFile = "/etc/moor/daemon.json"

    public var configFile: String = DaemonSettings.defaultConfigFile
    public var dataRoot = "/var/lib/moor"
    public var execRoot = "/run/moor"
    /// The API socket's path (from `unix://PATH`).
    public var socketPath = "/run/moor.sock"
    public var pidfile: String?
    public var liveRestore = false
    public var logLevel = "info"
    public var debug = false
    public var logDriver = "json-file"
    public var logOpts: [String: String] = [:]
    public var storageDriver = "overlay2"
    public var shimBinary: String?
    public var spoolMaxBytes: UInt64 = 1 << 30
    public var bridge: String?
    public var bip: String?
    /// `seccomp-profile` as given: a file's path, "unconfined" or "builtin".
    public var seccompProfile: String?
    /// The profile containers get unless they choose one: nil for Docker's
    /// default, "unconfined", or the file's JSON (read and checked at start).
    public var seccompProfileContents: String?
    /// The whole file, for plugins that read their own keys.
    public var file: [String: ConfigValue] = [:]

    public init() {}

    /// Keys daemon.json may hold, and what type each must have.
    static let keys: [String: String] = [
        "data-root": "string", "exec-root": "string", "hosts": "array", "pidfile": "string",
        "live-restore": "bool", "log-level": "string", "debug": "bool", "log-driver": "string",
        "log-opts": "object", "storage-driver": "string", "shim-binary": "string", "spool-max-size": "string",
        "bridge": "string", "bip": "string", "default-address-pools": "array", "seccomp-profile": "string",
    ]

    public static let logLevels: Set<String> = ["debug", "info", "warn", "error", "fatal"]
    public static let storageDrivers: Set<String> = ["overlay2", "vfs"]

    /// Settings from `flags` and the config file's `contents` (nil: no file).
    public static func resolve(flags: DaemonFlags, fileContents: Data?) throws -> DaemonSettings {
        var settings = DaemonSettings()
        settings.configFile = flags.configFile ?? defaultConfigFile
        if let data = fileContents {
            let file = try parseFile(data, path: settings.configFile)
            try checkConflicts(flags: flags, file: file, path: settings.configFile)
            try settings.apply(file: file)
        }
        try settings.apply(flags: flags)
        try settings.validate()
        try settings.loadSeccompProfile()
        return settings
    }

    /// Reads the file at the configured path; a missing default file is no
    /// file, a missing explicit one is an error.
    public static func load(flags: DaemonFlags) throws -> DaemonSettings {
        let path = flags.configFile ?? defaultConfigFile
        var contents: Data?
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DaemonConfigError("unable to configure the moor daemon with file \(path): cannot read it")
            }
            contents = data
        } else if flags.configFile != nil {
            throw DaemonConfigError("unable to configure the moor daemon with file \(path): open \(path): no such file or directory")
        }
        return try resolve(flags: flags, fileContents: contents)
    }

    static func parseFile(_ data: Data, path: String) throws -> [String: ConfigValue] {
        // An empty file configures nothing, as with dockerd.
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return [:] }
        let value: ConfigValue
        do {
            value = try JSONDecoder().decode(ConfigValue.self, from: data)
        } catch {
            throw DaemonConfigError("unable to configure the moor daemon with file \(path): invalid JSON: \(Self.describe(error))")
        }
        guard let object = value.objectValue else {
            throw DaemonConfigError("unable to configure the moor daemon with file \(path): the top level must be a JSON object, not \(value.typeName)")
        }
        let unknown = object.keys.filter { keys[$0] == nil }.sorted()
        if !unknown.isEmpty {
            throw DaemonConfigError("unable to configure the moor daemon with file \(path): the following directives don't match any configuration option: \(unknown.joined(separator: ", "))")
        }
        for (key, entry) in object.sorted(by: { $0.key < $1.key }) {
            let expected = keys[key] ?? ""
            let ok: Bool
            switch expected {
            case "string": ok = entry.stringValue != nil
            case "bool": ok = entry.boolValue != nil
            case "array": ok = entry.arrayValue != nil
            case "object": ok = entry.objectValue != nil
            default: ok = true
            }
            if !ok {
                throw DaemonConfigError("unable to configure the moor daemon with file \(path): \(key): expected a \(expected), got \(entry.typeName)")
            }
        }
        return object
    }

    static func checkConflicts(flags: DaemonFlags, file: [String: ConfigValue], path: String) throws {
        let fromFlags = flags.asConfigKeys
        let both = fromFlags.keys.filter { file[$0] != nil }.sorted()
        guard both.isEmpty else {
            let detail = both.map { "\($0): (from flag: \(fromFlags[$0] ?? ""), from file: \(file[$0].map(Self.plain) ?? ""))" }
            throw DaemonConfigError("unable to configure the moor daemon with file \(path): the following directives are specified both as a flag and in the configuration file: \(detail.joined(separator: ", "))")
        }
    }

    private mutating func apply(file: [String: ConfigValue]) throws {
        self.file = file
        if let v = file["data-root"]?.stringValue { dataRoot = v }
        if let v = file["exec-root"]?.stringValue { execRoot = v }
        if let hosts = file["hosts"]?.arrayValue {
            let strings = try hosts.map { value -> String in
                guard let s = value.stringValue else { throw DaemonConfigError("hosts: every entry must be a string, got \(value.typeName)") }
                return s
            }
            socketPath = try Self.socketPath(from: strings)
        }
        if let v = file["pidfile"]?.stringValue { pidfile = v }
        if let v = file["live-restore"]?.boolValue { liveRestore = v }
        if let v = file["log-level"]?.stringValue { logLevel = v }
        if let v = file["debug"]?.boolValue { debug = v }
        if let v = file["log-driver"]?.stringValue { logDriver = v }
        if let opts = file["log-opts"] { logOpts = try opts.stringMap(named: "log-opts") }
        if let v = file["storage-driver"]?.stringValue { storageDriver = v }
        if let v = file["shim-binary"]?.stringValue { shimBinary = v }
        if let v = file["spool-max-size"]?.stringValue {
            guard let bytes = ByteSize.parse(v), bytes >= 256 * 1024 else {
                throw DaemonConfigError("spool-max-size: \"\(v)\" is not a size of at least 256k (e.g. 64m, 1g)")
            }
            spoolMaxBytes = bytes
        }
        bridge = file["bridge"]?.stringValue
        bip = file["bip"]?.stringValue
        if let v = file["seccomp-profile"]?.stringValue { seccompProfile = v }
    }

    private mutating func apply(flags: DaemonFlags) throws {
        if let v = flags.dataRoot { dataRoot = v }
        if let v = flags.execRoot { execRoot = v }
        if !flags.hosts.isEmpty { socketPath = try Self.socketPath(from: flags.hosts) }
        if let v = flags.pidfile { pidfile = v }
        if let v = flags.liveRestore { liveRestore = v }
        if let v = flags.logLevel { logLevel = v }
        if let v = flags.debug { debug = v }
        if let v = flags.logDriver { logDriver = v }
        if !flags.logOpts.isEmpty { logOpts = flags.logOpts }
        if let v = flags.storageDriver { storageDriver = v }
        if let v = flags.shimBinary { shimBinary = v }
        if let v = flags.seccompProfile { seccompProfile = v }
    }

    /// Reads and checks the `seccomp-profile` file, as dockerd does at start.
    private mutating func loadSeccompProfile() throws {
        switch seccompProfile {
        case nil, "", "builtin":
            seccompProfileContents = nil
        case "unconfined":
            seccompProfileContents = "unconfined"
        case let path?:
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DaemonConfigError("seccomp-profile: cannot read \(path)")
            }
            let text = String(decoding: data, as: UTF8.self)
            do {
                try EngineConfiguration.checkSeccompProfile(text)
            } catch {
                throw DaemonConfigError("seccomp-profile: \(path): \(error)")
            }
            seccompProfileContents = text
        }
    }

    private func validate() throws {
        guard Self.logLevels.contains(logLevel) else {
            throw DaemonConfigError("log-level: unknown level \"\(logLevel)\" (use one of debug, info, warn, error, fatal)")
        }
        guard Self.storageDrivers.contains(storageDriver) else {
            throw DaemonConfigError("storage-driver: unknown driver \"\(storageDriver)\" (moor has overlay2 and vfs)")
        }
        for (name, path) in [("data-root", dataRoot), ("exec-root", execRoot)] where !path.hasPrefix("/") {
            throw DaemonConfigError("\(name): \"\(path)\" must be an absolute path")
        }
    }

    /// Only `unix://PATH` is served (one socket), as the spec asks.
    static func socketPath(from hosts: [String]) throws -> String {
        guard hosts.count == 1, let host = hosts.first else {
            throw DaemonConfigError("hosts: moor serves exactly one unix socket; got \(hosts.count) hosts")
        }
        guard host.hasPrefix("unix://") else {
            throw DaemonConfigError("hosts: \"\(host)\" is not supported: moor listens on unix:///PATH only")
        }
        let path = String(host.dropFirst("unix://".count))
        guard path.hasPrefix("/") else { throw DaemonConfigError("hosts: \"\(host)\": the socket path must be absolute") }
        guard path.utf8.count < 108 else { throw DaemonConfigError("hosts: \"\(host)\": a unix socket path must be shorter than 108 bytes") }
        return path
    }

    static func plain(_ value: ConfigValue) -> String {
        if let s = value.stringValue { return s }
        return value.description
    }

    static func describe(_ error: any Error) -> String {
        if case let DecodingError.dataCorrupted(context) = error {
            return context.underlyingError.map { "\($0)" } ?? context.debugDescription
        }
        return "\(error)"
    }

    /// What SIGHUP may change without a restart.
    public func reloadableDifferences(from other: DaemonSettings) -> [String] {
        var out: [String] = []
        if liveRestore != other.liveRestore { out.append("live-restore") }
        if logLevel != other.logLevel || debug != other.debug { out.append("log-level") }
        if logDriver != other.logDriver { out.append("log-driver") }
        if logOpts != other.logOpts { out.append("log-opts") }
        return out
    }

    /// Settings a reload cannot change (they need a restart).
    public func fixedDifferences(from other: DaemonSettings) -> [String] {
        var out: [String] = []
        if dataRoot != other.dataRoot { out.append("data-root") }
        if execRoot != other.execRoot { out.append("exec-root") }
        if socketPath != other.socketPath { out.append("hosts") }
        if storageDriver != other.storageDriver { out.append("storage-driver") }
        if pidfile != other.pidfile { out.append("pidfile") }
        if seccompProfile != other.seccompProfile || seccompProfileContents != other.seccompProfileContents {
            out.append("seccomp-profile")
        }
        return out
    }

    /// The effective log level (`debug: true` wins).
    public var effectiveLogLevel: String { debug ? "debug" : logLevel }
}

public struct DaemonConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
