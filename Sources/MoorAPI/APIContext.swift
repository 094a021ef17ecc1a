import Foundation
import Logging
import MoorEngine

/// What the API layer needs: the engine, the image service, and facts about
/// the daemon for `version` and `info`.
public struct APIContext: Sendable {
    public let engine: Engine
    public let images: ImageService
    public let logger: Logger
    public let daemon: DaemonFacts

    public init(engine: Engine, images: ImageService, logger: Logger, daemon: DaemonFacts) {
        self.engine = engine
        self.images = images
        self.logger = logger
        self.daemon = daemon
    }
}

/// Fixed facts about this daemon and host.
public struct DaemonFacts: Sendable {
    public var version: String
    public var gitCommit: String
    /// A stable id for this daemon (kept in the data-root).
    public var id: String
    public var startedNs: Int64
    public var debug: @Sendable () -> Bool

    public init(version: String, gitCommit: String, id: String, startedNs: Int64, debug: @escaping @Sendable () -> Bool) {
        self.version = version
        self.gitCommit = gitCommit
        self.id = id
        self.startedNs = startedNs
        self.debug = debug
    }
}

/// Facts about the host `info` and `version` report.
enum HostFacts {
    static var kernelVersion: String { Uname.release }

    static var hostname: String { Uname.nodename }

    static var architecture: String { Uname.machine }

    /// Go's GOARCH spelling, which `docker version` shows.
    static var goArch: String {
        switch architecture {
        case "x86_64": "amd64"
        case "aarch64": "arm64"
        default: architecture
        }
    }

    static var operatingSystem: (name: String, version: String) {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return ("Linux", "") }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return (values["PRETTY_NAME"] ?? "Linux", values["VERSION_ID"] ?? "")
    }

    static var memoryTotal: Int64 {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
              let kib = Int64(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kib * 1024
    }

    static var cpuCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// "2" on a cgroup2 host, "1" on v1 and hybrid hosts.
    static var cgroupVersion: String {
        // Only a cgroup2 mount has cgroup.controllers at its root.
        FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") ? "2" : "1"
    }

    static var openFileCount: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }
}
