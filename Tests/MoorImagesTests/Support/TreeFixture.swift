import Foundation
import Glibc

/// A small busybox-like root filesystem made with system calls, so it has
/// what an image has: modes (setuid, sticky), owners, nanosecond mtimes,
/// symlinks, a hardlink, a FIFO, an extended attribute.
enum TreeFixture {
    static func check(_ result: Int32, _ what: String) throws {
        if result != 0 { throw TestFailure("\(what) failed: errno \(errno)") }
    }

    static func write(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try check(chmod(path, mode), "chmod \(path)")
    }

    static func setTime(_ path: String, seconds: Int, nanoseconds: Int) throws {
        let times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
        try check(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), "utimensat \(path)")
    }

    static func make(at root: String) throws {
        for (directory, mode) in [("bin", 0o755), ("etc", 0o755), ("usr", 0o755), ("usr/bin", 0o750),
                                  ("tmp", 0o1777), ("var", 0o755), ("var/empty", 0o555), ("run", 0o755),
                                  ("home", 0o755), ("home/user", 0o700)] {
            try check(mkdir(root + "/" + directory, 0o700), "mkdir \(directory)")
            try check(chmod(root + "/" + directory, mode_t(mode)), "chmod \(directory)")
        }
        let busybox = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) }
        try write(root + "/bin/busybox", busybox, mode: 0o755)
        try check(link(root + "/bin/busybox", root + "/bin/ls"), "link")
        try check(symlink("busybox", root + "/bin/sh"), "symlink")
        try check(symlink("../../bin/busybox", root + "/usr/bin/env"), "symlink")
        try write(root + "/etc/passwd", Array("root:x:0:0:root:/root:/bin/sh\n".utf8), mode: 0o644)
        try write(root + "/bin/su", Array("su".utf8), mode: 0o4755)
        try write(root + "/home/user/.profile", Array("export A=1\n".utf8), mode: 0o600)
        try write(root + "/etc/.wh.removed", [], mode: 0o644)
        try write(root + "/etc/empty", [], mode: 0o640)
        try check(chown(root + "/home/user", 1000, 1000), "chown")
        try check(chown(root + "/home/user/.profile", 1000, 1001), "chown")
        try check(lchown(root + "/usr/bin/env", 1000, 1000), "lchown")
        try check(mkfifo(root + "/run/initctl", 0o600), "mkfifo")
        try setXattr(root + "/etc/passwd", "user.moor.test", "value")
        var stamp = 1_600_000_000
        for path in ["bin/busybox", "bin/sh", "usr/bin/env", "etc/passwd", "bin/su", "home/user/.profile",
                     "etc/.wh.removed", "etc/empty", "run/initctl"] {
            stamp += 1000
            try setTime(root + "/" + path, seconds: stamp, nanoseconds: 123_456_789)
        }
        // Directories last: creating their entries changed their mtimes.
        for directory in ["bin", "etc", "usr/bin", "usr", "tmp", "var/empty", "var", "run", "home/user", "home"] {
            stamp += 1000
            try setTime(root + "/" + directory, seconds: stamp, nanoseconds: 987_654_321)
        }
    }

    /// Every path below `root`, symlinks not followed.
    static func paths(_ root: String) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        return enumerator.compactMap { $0 as? String }.sorted()
    }

    static func lstatOf(_ path: String) throws -> stat {
        var info = stat()
        try check(lstat(path, &info), "lstat \(path)")
        return info
    }

    /// Extended attributes through Python: Swift's Glibc module leaves them out.
    static func setXattr(_ path: String, _ name: String, _ value: String) throws {
        try run("/usr/bin/python3", ["-c", "import os, sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())",
                                     path, name, value])
    }

    static func xattr(_ path: String, _ name: String) -> String? {
        let script = "import os, sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())"
        guard let output = try? run("/usr/bin/python3", ["-c", script, path, name]) else { return nil }
        return String(decoding: output, as: UTF8.self)
    }

    /// Differences between two trees: type, mode, owner, mtime (to the
    /// second, or the nanosecond), size, content, link target.
    static func differences(_ expected: String, _ actual: String, nanoseconds: Bool) throws -> [String] {
        var problems = [String]()
        let expectedPaths = try paths(expected)
        let actualPaths = try paths(actual)
        if expectedPaths != actualPaths { problems.append("paths: \(expectedPaths) vs \(actualPaths)") }
        for path in expectedPaths where actualPaths.contains(path) {
            let a = try lstatOf(expected + "/" + path)
            let b = try lstatOf(actual + "/" + path)
            if a.st_mode != b.st_mode { problems.append("\(path): mode \(String(a.st_mode, radix: 8)) vs \(String(b.st_mode, radix: 8))") }
            if a.st_uid != b.st_uid || a.st_gid != b.st_gid { problems.append("\(path): owner") }
            if a.st_mtim.tv_sec != b.st_mtim.tv_sec || (nanoseconds && a.st_mtim.tv_nsec != b.st_mtim.tv_nsec) {
                problems.append("\(path): mtime \(a.st_mtim) vs \(b.st_mtim)")
            }
            if (a.st_mode & S_IFMT) == S_IFREG {
                if try readBytes(expected + "/" + path) != readBytes(actual + "/" + path) { problems.append("\(path): content") }
            }
            if (a.st_mode & S_IFMT) == S_IFLNK {
                let targetA = try FileManager.default.destinationOfSymbolicLink(atPath: expected + "/" + path)
                let targetB = try FileManager.default.destinationOfSymbolicLink(atPath: actual + "/" + path)
                if targetA != targetB { problems.append("\(path): link \(targetA) vs \(targetB)") }
            }
        }
        return problems
    }
}
