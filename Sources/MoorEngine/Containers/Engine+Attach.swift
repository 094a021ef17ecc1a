import Foundation
import MoorPluginKit

public struct AttachRequest: Sendable, Equatable {
    public var stdin: Bool
    public var stdout: Bool
    public var stderr: Bool
    /// Replay the stored log first (`logs=1`).
    public var logs: Bool
    public var stream: Bool

    public init(stdin: Bool = false, stdout: Bool = true, stderr: Bool = true, logs: Bool = false, stream: Bool = true) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.logs = logs
        self.stream = stream
    }
}

/// A client attached to a container: its output as it comes, and its stdin.
public struct AttachSession: Sendable {
    public let tty: Bool
    /// Ends when the container's current (or next) run ends.
    public let output: AsyncStream<OutputChunk>
    /// The client's stdin goes to the container: asked for, and the
    /// container has an open stdin (dockerd ignores stdin=1 without one:
    /// clients send it regardless).
    public let stdin: Bool
    let container: ManagedContainer
    /// StdinOnce without a terminal, as dockerd: a terminal's client that
    /// goes (a detach included) leaves the container's stdin open.
    let closeStdinOnEOF: Bool

    /// Delivers all of `bytes` to the container's stdin, waiting for it to
    /// start (docker run sends stdin before start) and for pipe room.
    public func writeStdin(_ bytes: [UInt8]) async throws {
        try await container.writeStdin(bytes)
    }

    /// The client closed its stdin: the container's stdin closes too when
    /// it was created with StdinOnce (as Docker does).
    public func clientClosedStdin() async {
        if closeStdinOnEOF { await container.closeStdin() }
    }
}

extension Engine {
    public func attach(_ reference: String, request: AttachRequest) async throws -> AttachSession {
        let target = try container(reference)
        let record = await target.snapshot()
        if record.state.status == .paused {
            throw EngineError.conflict("You cannot attach to a paused container, unpause it first")
        }
        let live = request.stream ? await target.output.chunks() : nil
        var replay: [OutputChunk] = []
        if request.logs, let reader = try? await context.plugins.single(.logging, id: record.logDriver)
            .openReader(for: await target.logContainer, options: record.logOptions) {
            replay = try await reader.read(LogReadOptions()).map { OutputChunk(source: $0.source, bytes: $0.line) }
        }
        let (stream, continuation) = AsyncStream<OutputChunk>.makeStream()
        let task = Task {
            for chunk in replay where request.wants(chunk.source) { continuation.yield(chunk) }
            if let live {
                for await chunk in live where request.wants(chunk.source) { continuation.yield(chunk) }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        await context.publish("attach", container: record)
        return AttachSession(tty: record.tty, output: stream, stdin: request.stdin && (record.config.openStdin ?? false),
                             container: target,
                             closeStdinOnEOF: (record.config.stdinOnce ?? false) && !(record.config.tty ?? false))
    }
}

extension AttachRequest {
    func wants(_ source: LogSource) -> Bool { source == .stdout ? stdout : stderr }
}

extension ManagedContainer {
    /// Waits (up to a minute) for the container to run, then writes.
    func writeStdin(_ bytes: [UInt8]) async throws {
        var remaining = bytes[...]
        var waited = 0
        while !remaining.isEmpty {
            guard let session, record.state.isRunning else {
                if record.state.status == .exited && record.state.startedAtNs > 0 && waited > 0 {
                    throw EngineError.conflict("container \(id) exited")
                }
                guard waited < 1200 else { throw EngineError.conflict("container \(id) is not running") }
                waited += 1
                try await Task.sleep(nanoseconds: 50_000_000)
                continue
            }
            let accepted = try await session.writeStdin(process: 0, bytes: Array(remaining.prefix(64 * 1024)))
            if accepted == 0 {
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            remaining = remaining.dropFirst(accepted)
        }
    }

    func closeStdin() async {
        for _ in 0..<1200 {
            if let session, record.state.isRunning {
                try? await session.closeStdin(process: 0)
                return
            }
            if record.state.status == .exited && record.state.startedAtNs > 0 { return }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
    }
}
