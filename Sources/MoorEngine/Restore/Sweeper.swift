import Foundation
import MoorShimClient

/// Removes what belongs to no known container, after a crash: container
/// directories, shim sockets (and the shims behind them), cgroups. Logs
/// every removal. Never touches a known container's resources.
struct Sweeper {
    let context: EngineContext
    let known: Set<String>

    func sweep() async {
        let config = context.configuration
        let fm = FileManager.default
        let knownKeys = Set(known.map { String($0.prefix(32)) })
        // Ids this daemon left behind (its own data-root and exec-root):
        // only their cgroups are swept, never another daemon's.
        var orphans: Set<String> = []
        for entry in (try? fm.contentsOfDirectory(atPath: config.socketsDirectory)) ?? [] where !knownKeys.contains(entry) {
            let dir = config.socketsDirectory + "/" + entry
            if let channel = try? await ShimChannel.connect(to: dir + "/shim.sock", group: context.group) {
                let session = ShimSession(channel: channel)
                try? await session.shutdown(kill: true)
                channel.close()
                context.logger.warning("swept a shim with no container record", metadata: ["socket": "\(dir)/shim.sock"])
            }
            remove(dir, "shim socket directory")
        }
        for entry in (try? fm.contentsOfDirectory(atPath: config.containersDirectory)) ?? [] where !known.contains(entry) {
            orphans.insert(entry)
            remove(config.containersDirectory + "/" + entry, "container directory")
        }
        for entry in (try? fm.contentsOfDirectory(atPath: config.execRoot + "/containers")) ?? [] where !known.contains(entry) {
            orphans.insert(entry)
            remove(config.execRoot + "/containers/" + entry, "container runtime directory")
        }
        sweepCgroups(orphans)
    }

    private func remove(_ path: String, _ what: String) {
        do {
            try FileManager.default.removeItem(atPath: path)
            context.logger.warning("swept a \(what) with no container", metadata: ["path": "\(path)"])
        } catch {
            context.logger.error("could not sweep a \(what)", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// Empty cgroups under /moor and /moor-shims of containers this daemon
    /// left behind (`ids`).
    private func sweepCgroups(_ ids: Set<String>) {
        guard !ids.isEmpty else { return }
        let fm = FileManager.default
        let root = "/sys/fs/cgroup"
        var bases = [root]
        for entry in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            var isDir: ObjCBool = false
            let path = root + "/" + entry
            if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue,
               (try? fm.destinationOfSymbolicLink(atPath: path)) == nil {
                bases.append(path)
            }
        }
        for base in bases {
            for parent in ["/moor", "/moor-shims"] {
                let dir = base + parent
                for entry in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where ids.contains(entry) {
                    let path = dir + "/" + entry
                    if rmdir(path) == 0 {
                        context.logger.warning("swept a cgroup with no container", metadata: ["path": "\(path)"])
                    }
                }
            }
        }
    }
}
