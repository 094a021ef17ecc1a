import Foundation

/// The processes of a container, from its cgroup (v2, or v1's pids/memory
/// hierarchy on hosts without a unified one).
enum CgroupProcesses {
    static func pids(cgroupsPath: String) -> [Int32] {
        let root = "/sys/fs/cgroup"
        let candidates = [root + cgroupsPath, root + "/pids" + cgroupsPath, root + "/memory" + cgroupsPath,
                          root + "/unified" + cgroupsPath]
        for dir in candidates {
            if let text = try? String(contentsOfFile: dir + "/cgroup.procs", encoding: .utf8) {
                return text.split(separator: "\n").compactMap { Int32($0) }
            }
        }
        return []
    }
}

/// `ps` output cut into titles and rows, keeping the rows of `pids`.
enum PsOutput {
    static func parse(_ text: String, keeping pids: Set<String>) throws -> (titles: [String], processes: [[String]]) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard !lines.isEmpty else { throw EngineError.system("ps printed nothing") }
        let titles = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let pidColumn = titles.firstIndex(of: "PID") else {
            throw EngineError.invalid("Couldn't find PID field in ps output")
        }
        var rows: [[String]] = []
        for line in lines {
            var fields = line.split(separator: " ", maxSplits: titles.count - 1, omittingEmptySubsequences: true).map(String.init)
            guard fields.count > pidColumn, pids.contains(fields[pidColumn]) else { continue }
            while fields.count < titles.count { fields.append("") }
            rows.append(fields)
        }
        return (titles, rows)
    }
}

/// Whether a process still runs. `kill(pid, 0)` succeeds on a zombie, and a
/// shim that exited stays one until its new parent (PID 1, or whatever
/// subreaper adopted it) reaps it — possibly seconds later: a daemon must not
/// wait for that. A zombie has already left its cgroups and closed its files.
enum ProcessLiveness {
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        // "PID (COMM) STATE ...": COMM may hold spaces and parentheses.
        guard let close = stat.lastIndex(of: ")") else { return false }
        let rest = stat[stat.index(after: close)...].drop(while: { $0 == " " })
        guard let state = rest.first else { return false }
        return state != "Z" && state != "X"
    }

    /// Whether `pid` is still the running shim of container `id` (after a
    /// host reboot the pid may belong to anything else).
    static func isShim(_ pid: Int32, of id: String) -> Bool {
        guard pid > 0, isRunning(pid),
              let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return zip(args, args.dropFirst()).contains { $0 == "--id" && $1 == id }
    }
}
