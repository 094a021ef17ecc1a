import Foundation
import MoorPluginKit
import MoorShimClient

/// One exec: created, then started once inside its container's shim, with
/// its own spool (its output goes to whoever started it, never to the
/// container's log) and its own exit code. Its record is in the store from
/// creation on, so a restarted daemon takes a running exec back (`resume`).
actor ManagedExec {
    nonisolated let id: String
    nonisolated let containerID: String
    let container: ManagedContainer
    private var record: ExecRecord

    var started: Bool { record.started }
    var exited: Bool { record.exitCode != nil }
    var config: ExecConfig { record.config }

    /// A new exec, stored before the API answers.
    init(id: String, container: ManagedContainer, containerID: String, config: ExecConfig, run: Int64) throws {
        self.id = id
        self.container = container
        self.containerID = containerID
        record = ExecRecord(id: id, containerID: containerID, config: config, run: run)
        try record.save(in: container.context.store)
    }

    /// An exec the previous daemon stored.
    init(restoring record: ExecRecord, container: ManagedContainer) {
        id = record.id
        containerID = record.containerID
        self.container = container
        self.record = record
    }

    func view() -> ExecView {
        ExecView(id: id, containerID: containerID, config: record.config, running: record.running,
                 exitCode: record.exitCode, pid: record.pid)
    }

    /// Starts the process; returns its output (empty for a detached exec,
    /// whose output is read and dropped so its spool does not grow).
    func start(detach: Bool) async throws -> ExecSession {
        guard !record.started else { throw EngineError.conflict("Error: Exec command \(id) has already run") }
        record.started = true
        let session = try await container.requireSession()
        let processJSON = try await container.execProcessJSON(record.config)
        let begun: ExecStarted
        do {
            begun = try await session.exec(processJSON: processJSON, stdin: record.config.attachStdin ?? false)
        } catch let error as ShimError {
            let code: Int32 = error.code == ENOENT || error.code == ENOTDIR ? 127 : 126
            record.exitCode = code
            save()
            await container.context.publish("exec_die", container: await container.snapshot(),
                                            extra: ["execID": id, "exitCode": "\(code)"])
            throw EngineError.invalid("OCI runtime exec failed: \(error.message)")
        }
        record.process = begun.process
        record.pid = begun.pid
        save()
        await container.context.publish("exec_start: " + record.config.cmd.joined(separator: " "),
                                        container: await container.snapshot(), extra: ["execID": id])
        let (stream, continuation) = AsyncStream<OutputChunk>.makeStream(bufferingPolicy: .bufferingNewest(65536))
        let task = follow(session, process: begun.process, from: 1) { chunks in
            if !detach { for chunk in chunks { continuation.yield(chunk) } }
        } then: {
            continuation.finish()
        }
        continuation.onTermination = { _ in _ = task }
        return ExecSession(id: id, tty: record.config.tty ?? false, output: stream, session: session, process: begun.process)
    }

    /// After a daemon restart: an exec that was running is followed again
    /// (its output, whose client is gone, read and dropped so its spool
    /// does not grow) until it exits; one that ended meanwhile gets its
    /// exit code from the shim.
    func resume() async {
        guard record.running, let process = record.process else { return }
        let current = await container.snapshot()
        guard current.state.startedAtNs == record.run && current.state.isRunning else {
            // Its container ended or started anew: the shim that ran it
            // left an exit record, or it died with its container.
            await finished(exitRecord(process)?.exitCode ?? 137)
            return
        }
        // A container whose shim was not taken back (yet): the exec stays
        // as stored, running.
        guard let session = try? await container.requireSession(),
              let state = try? await session.state(process: process) else { return }
        if state.status == .exited {
            // Ended during the downtime: known at once (what is left in its
            // spool is still read, to free it).
            await finished(state.exitCode)
        }
        _ = follow(session, process: process, from: state.spoolAckedSeq + 1) { _ in } then: {}
    }

    private func exitRecord(_ process: UInt32) async -> ExitRecord? {
        await container.snapshot().shim?.exitRecord(process: process)
    }

    private func follow(_ session: ShimSession, process: UInt32, from: UInt64,
                        deliver: @escaping @Sendable ([OutputChunk]) async -> Void,
                        then done: @escaping @Sendable () -> Void) -> Task<Void, Never> {
        let pump = ExecOutputPump(session: session, process: process, from: from)
        return Task {
            do {
                try await pump.run(deliver)
            } catch {
                // The shim went away: the exit below says what is known.
            }
            if self.exited {
                // Recorded already (see `resume`).
            } else if let final = try? await session.wait(process: process) {
                await self.finished(final.exitCode)
            } else if await !self.container.detaching {
                // The shim went away: its exit record, if it wrote one.
                await self.finished(await self.exitRecord(process)?.exitCode ?? 255)
            }
            // (A daemon stopping with live restore lets go of the exec,
            // which runs on; the next daemon follows it again.)
            done()
        }
    }

    private func finished(_ code: Int32) async {
        record.exitCode = code
        save()
        await container.context.publish("exec_die", container: await container.snapshot(),
                                        extra: ["execID": id, "exitCode": "\(code)"])
    }

    func resize(height: Int, width: Int) async throws {
        guard let process = record.process, record.running else { throw EngineError.conflict("Exec \(id) is not running") }
        try await container.resize(height: height, width: width, process: process)
    }

    /// A state change after creation: the exec goes on whatever the store
    /// says (the shim holds it); a failed write is logged.
    private func save() {
        do {
            try record.save(in: container.context.store)
        } catch {
            container.context.logger.error("exec state not stored", metadata: ["exec": "\(id)", "error": "\(error)"])
        }
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
    /// The first record to read (1, or after the last acknowledged one).
    var from: UInt64 = 1

    func run(_ deliver: @Sendable ([OutputChunk]) async -> Void) async throws {
        var from = self.from
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
