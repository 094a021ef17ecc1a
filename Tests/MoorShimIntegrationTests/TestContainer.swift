import Foundation
@testable import MoorShimClient

/// One container started through the real moor-shim on the busybox image,
/// in its own temporary directory and its own cgroup parents. `remove()`
/// undoes everything it created, whatever state the test left it in.
final class TestContainer {
    let id: String
    let dir: String
    let bundle: String
    let stateDir: String
    let cgroupParent: String
    let shimCgroupParent: String
    private(set) var shimPid: Int32 = 0
    private(set) var pid: Int32 = 0
    private(set) var socketPath: String

    /// `edit` changes the default spec (`moor-shim spec`) before the start.
    init(_ args: [String], terminal: Bool = false, edit: (inout [String: Any]) -> Void = { _ in }) throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        id = "it-\(tag)"
        dir = NSTemporaryDirectory() + "moor-it-\(tag)"
        bundle = dir + "/bundle"
        stateDir = dir + "/state"
        socketPath = stateDir + "/shim.sock"
        cgroupParent = "/moor-it-\(tag)"
        shimCgroupParent = "/moor-it-shims-\(tag)"
        for sub in ["bundle/rootfs", "upper", "work"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        var spec = try Self.defaultSpec()
        var process = spec["process"] as? [String: Any] ?? [:]
        process["args"] = args
        process["terminal"] = terminal
        spec["process"] = process
        var linux = spec["linux"] as? [String: Any] ?? [:]
        linux["cgroupsPath"] = "\(cgroupParent)/\(id)"
        spec["linux"] = linux
        edit(&spec)
        let data = try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted])
        try data.write(to: URL(fileURLWithPath: bundle + "/config.json"))
    }

    static func defaultSpec() throws -> [String: Any] {
        let result = try TestEnvironment.run(TestEnvironment.shimBinary, ["spec"])
        guard result.status == 0,
              let spec = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else { throw ShimError(code: EINVAL, message: "moor-shim spec failed: \(result.stderr)") }
        return spec
    }

    var startOptions: ShimStartOptions {
        var options = ShimStartOptions(id: id, bundle: bundle, stateDir: stateDir)
        options.lowerDirs = [TestEnvironment.busyboxRootfs]
        options.upperDir = dir + "/upper"
        options.workDir = dir + "/work"
        options.shimCgroup = "\(shimCgroupParent)/\(id)"
        return options
    }

    /// Starts the shim; returns self for chaining.
    @discardableResult
    func start(stdin: Bool = false, spoolMax: UInt64? = nil) throws -> TestContainer {
        var options = startOptions
        options.stdin = stdin
        options.spoolMax = spoolMax
        let started = try ShimLauncher(shimPath: TestEnvironment.shimBinary).start(options)
        shimPid = started.shimPid
        pid = started.pid
        socketPath = started.socket
        return self
    }

    func client() throws -> ShimClient { try ShimClient(socketPath: socketPath, timeout: 30) }

    /// Waits for init to exit and returns its final state.
    func waitExit() throws -> ShimProcessState { try client().wait(process: 0) }

    /// All stdout/stderr records of a process, read through the protocol.
    func records(process: UInt32 = 0) throws -> [SpoolRecord] {
        let c = try client()
        var out: [SpoolRecord] = []
        var next: UInt64 = 1
        while true {
            let batch = try c.readSpool(process: process, from: next, maxBytes: 64 * 1024)
            if batch.records.isEmpty { break }
            out.append(contentsOf: batch.records)
            next = batch.nextSeq
        }
        return out
    }

    func output(process: UInt32 = 0, stream: SpoolStream? = nil) throws -> String {
        let bytes = try records(process: process)
            .filter { stream == nil ? $0.stream != .loss : $0.stream == stream }
            .flatMap { $0.payload }
        return String(decoding: bytes, as: UTF8.self)
    }

    func exitRecord() throws -> ExitRecord { try ExitRecord.read(path: stateDir + "/exit") }

    /// Every cgroup directory this container's shim and init could have made.
    var cgroupDirs: [String] {
        TestEnvironment.cgroupHierarchies.flatMap { [$0 + cgroupParent + "/" + id, $0 + shimCgroupParent + "/" + id] }
    }

    func remove() {
        if shimPid > 0, TestEnvironment.isAlive(shimPid) {
            _ = try? client().shutdown(kill: true)
            _ = TestEnvironment.eventually(5) { !TestEnvironment.isAlive(shimPid) }
            if TestEnvironment.isAlive(shimPid) { kill(shimPid, SIGKILL) }
        }
        if pid > 0 { kill(pid, SIGKILL) }
        for hierarchy in TestEnvironment.cgroupHierarchies {
            for parent in [cgroupParent, shimCgroupParent] {
                rmdir(hierarchy + parent + "/" + id)
                rmdir(hierarchy + parent)
            }
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
}
