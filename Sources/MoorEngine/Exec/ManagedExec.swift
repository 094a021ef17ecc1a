import Foundation
import MoorPluginKit
import MoorShimClient

/// One exec: created, then started once inside its container's shim, with
/// its own spool (its output goes to whoever started it, never to the
/// container's log) and its own exit code.
actor ManagedExec {
    nonisolated let id: String
    nonisolated let containerID: String
    let container: ManagedContainer
    let config: ExecConfig
    private(set) var started = false
    private(set) var running = false
    private(set) var exitCode: Int32?
    private(set) var pid: Int32 = 0
    private(set) var process: UInt32?

    init(id: String, container: ManagedContainer, containerID: String, config: ExecConfig) {
        self.id = id
        self.container = container
        self.containerID = containerID
        self.config = config
    }

    func view() -> ExecView {
        ExecView(id: id, containerID: containerID, config: config, running: running, exitCode: exitCode, pid: pid)
    }

    /// Starts the process; returns its output (empty for a detached exec,
    /// whose output is read and dropped so its spool does not grow).
    func start(detach: Bool) async throws -> ExecSession {
        guard !started else { throw EngineError.conflict("Error: Exec command \(id) has already run") }
        started = true
        let session = try await container.requireSession()
        let processJSON = try await container.execProcessJSON(config)
        let begun: ExecStarted
        do {
            begun = try await session.exec(processJSON: processJSON, stdin: config.attachStdin ?? false)
        } catch let error as ShimError {
            exitCode = error.code == ENOENT || error.code == ENOTDIR ? 127 : 126
            await container.context.publish("exec_die", container: await container.snapshot(),
                                            extra: ["execID": id, "exitCode": "\(exitCode ?? 126)"])
            throw EngineError.invalid("OCI runtime exec failed: \(error.message)")
        }
        process = begun.process
        pid = begun.pid
        running = true
        await container.context.publish("exec_start: " + config.cmd.joined(separator: " "),
                                        container: await container.snapshot(), extra: ["execID": id])
        let (stream, continuation) = AsyncStream<OutputChunk>.makeStream(bufferingPolicy: .bufferingNewest(65536))
        let pump = ExecOutputPump(session: session, process: begun.process)
        let task = Task {
            do {
                try await pump.run { chunks in
                    if !detach { for chunk in chunks { continuation.yield(chunk) } }
                }
            } catch {
                // The shim went away: the exit below says what is known.
            }
            let final = try? await session.wait(process: begun.process)
            await self.finished(final?.exitCode ?? 255)
            continuation.finish()
        }
        continuation.onTermination = { _ in _ = task }
        return ExecSession(id: id, tty: config.tty ?? false, output: stream, session: session, process: begun.process)
    }

    private func finished(_ code: Int32) async {
        running = false
        exitCode = code
        await container.context.publish("exec_die", container: await container.snapshot(),
                                        extra: ["execID": id, "exitCode": "\(code)"])
    }

    func resize(height: Int, width: Int) async throws {
        guard let process, running else { throw EngineError.conflict("Exec \(id) is not running") }
        try await container.resize(height: height, width: width, process: process)
    }
}

/// A started exec as its client sees it.
public struct ExecSession: Sendable {
    public let id: String
    public let tty: Bool
    /// Ends when the process has exited and all its output was read.
    public let output: AsyncStream<OutputChunk>
    let session: ShimSession
    let process: UInt32

    public func writeStdin(_ bytes: [UInt8]) async throws {
        var remaining = bytes[...]
        while !remaining.isEmpty {
            let accepted = try await session.writeStdin(process: process, bytes: Array(remaining.prefix(64 * 1024)))
            if accepted == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
            remaining = remaining.dropFirst(accepted)
        }
    }

    public func closeStdin() async {
        try? await session.closeStdin(process: process)
    }
}

/// Reads an exec's spool from the start until the process finished,
/// acknowledging as it goes.
struct ExecOutputPump: Sendable {
    let session: ShimSession
    let process: UInt32

    func run(_ deliver: @Sendable ([OutputChunk]) async -> Void) async throws {
        var from: UInt64 = 1
        while !Task.isCancelled {
            let (batch, idle) = try await session.pollSpool(process: process, from: from)
            if idle { continue }
            if batch.records.isEmpty {
                let state = try await session.state(process: process)
                if state.status == .exited && batch.nextSeq >= state.spoolNextSeq { return }
                from = max(from, batch.nextSeq)
                continue
            }
            var chunks: [OutputChunk] = []
            for record in batch.records {
                switch record.stream {
                case .stdout: chunks.append(OutputChunk(source: .stdout, bytes: record.payload))
                case .stderr: chunks.append(OutputChunk(source: .stderr, bytes: record.payload))
                case .loss: break
                }
            }
            await deliver(chunks)
            from = batch.nextSeq
            try await session.ack(process: process, seq: from - 1)
        }
    }
}
