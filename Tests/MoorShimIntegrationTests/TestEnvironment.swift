import Foundation
@testable import MoorShimClient

/// Where the tests find the static shim binary and the busybox image built by
/// `make test` (which exports MOOR_SHIM and MOOR_TEST_IMAGES).
enum TestEnvironment {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var shimBinary: String {
        ProcessInfo.processInfo.environment["MOOR_SHIM"]
            ?? packageRoot.appendingPathComponent("build/bin/moor-shim").path
    }

    static var imagesDir: String {
        ProcessInfo.processInfo.environment["MOOR_TEST_IMAGES"]
            ?? packageRoot.appendingPathComponent("build/images").path
    }

    static var busyboxRootfs: String { imagesDir + "/busybox/rootfs" }

    /// Runs a program to completion and returns its status and output.
    @discardableResult
    static func run(_ path: String, _ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        // posix_spawn + waitpid (ChildProcess), not Foundation's Process,
        // whose exit detection is unreliable with forked descendants.
        let output = try ChildProcess.run(path, args)
        let status: Int32 = switch output.termination {
        case let .exited(code): code
        case let .signaled(signal): 128 + signal
        }
        return (status, String(decoding: output.stdout, as: UTF8.self), String(decoding: output.stderr, as: UTF8.self))
    }

    /// The cgroup hierarchies of this host, for checks and cleanup.
    static var cgroupHierarchies: [String] {
        let root = "/sys/fs/cgroup"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return entries.map { root + "/" + $0 }.filter { path in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
                && FileManager.default.fileExists(atPath: path + "/cgroup.procs")
        }
    }

    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    static func mountTable() -> String {
        (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass.
    static func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }
}
