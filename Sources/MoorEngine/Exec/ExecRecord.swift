import Foundation
import MoorStore

/// What the store keeps of an exec, so a restarted daemon knows the execs
/// its predecessor started: the shim still runs them (they outlive the
/// daemon like the container does), and `exec inspect` keeps answering with
/// their pid, then their exit code.
struct ExecRecord: Codable, Sendable, Equatable {
    static let version = 1

    var version = Self.version
    var id: String
    var containerID: String
    var config: ExecConfig
    /// The container's run the exec belongs to (its StartedAt, ns): a
    /// restarted container's new shim numbers its processes from 1 again.
    var run: Int64
    var started = false
    /// The shim's process number, once started.
    var process: UInt32?
    var pid: Int32 = 0
    var exitCode: Int32?

    /// Started in the shim and not ended.
    var running: Bool { process != nil && exitCode == nil }

    init(id: String, containerID: String, config: ExecConfig, run: Int64) {
        self.id = id
        self.containerID = containerID
        self.config = config
        self.run = run
    }

    func save(in store: StateStore) throws {
        try StoredRecord.save(self, subject: "exec \(id) of container \(containerID)") {
            try store.saveExec(id: id, containerID: containerID, document: $0)
        }
    }
}
