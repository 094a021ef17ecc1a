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
