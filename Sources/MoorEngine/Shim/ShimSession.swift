import Foundation
import MoorShimClient
import NIOCore

/// Typed requests to one shim over a `ShimChannel`.
struct ShimSession: Sendable {
    let channel: ShimChannel

    var socketPath: String { channel.socketPath }

    func hello() async throws -> ShimHello {
        let request = ShimRequest.hello(major: ShimProtocol.major, minor: ShimProtocol.minor)
        return try ShimHello.decode(try await call(request, timeout: .seconds(5)))
    }

    func state(process: UInt32 = 0) async throws -> ShimProcessState {
        try ShimProcessState.decode(try await call(.state(process: process)))
    }

    func signal(process: UInt32 = 0, signal: Int32, all: Bool) async throws {
        _ = try await call(.signal(process: process, signal: signal, all: all))
    }

    /// Returns how many bytes the pipe took (fewer when it is full).
    func writeStdin(process: UInt32, bytes: [UInt8]) async throws -> Int {
        let payload = try await call(.stdinWrite(process: process, bytes: bytes))
        guard payload.count >= 4 else { throw ShimError(code: EPROTO, message: "short STDIN_WRITE reply", context: socketPath) }
        return Int(UInt32(payload[0]) | UInt32(payload[1]) << 8 | UInt32(payload[2]) << 16 | UInt32(payload[3]) << 24)
    }

    func closeStdin(process: UInt32) async throws {
        _ = try await call(.stdinClose(process: process))
    }

    /// Records from `from`; with `waitMs` > 0 the shim holds the request
    /// until there is output, the process finished, or the wait ran out.
    func readSpool(process: UInt32, from: UInt64, maxBytes: UInt32 = 256 * 1024, waitMs: UInt32 = 0) async throws -> SpoolBatch {
        var payload = ShimRequest.spoolRead(process: process, maxBytes: maxBytes, fromSeq: from).encodePayload()
        withUnsafeBytes(of: waitMs.littleEndian) { payload.append(contentsOf: $0) }
        let timeout = TimeAmount.milliseconds(Int64(waitMs) + 30_000)
        return try SpoolBatch.decode(try await channel.call(.spoolRead, payload: payload, timeout: timeout))
    }

    /// The longest wait the protocol allows: an idle container costs the
    /// daemon one request a minute.
    static let longPollMs: UInt32 = 60_000

    /// A long poll of the spool. `idle` when it came back empty only
    /// because the wait ran out: the process still runs and nothing was
    /// written, so the caller can poll again without asking for the state
    /// (an early empty answer means the process finished).
    func pollSpool(process: UInt32, from: UInt64) async throws -> (batch: SpoolBatch, idle: Bool) {
        let started = DispatchTime.now().uptimeNanoseconds
        let batch = try await readSpool(process: process, from: from, waitMs: Self.longPollMs)
        let waitedMs = (DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        return (batch, batch.records.isEmpty && waitedMs + 1_000 >= UInt64(Self.longPollMs))
    }

    func ack(process: UInt32, seq: UInt64) async throws {
        _ = try await call(.spoolAck(process: process, seq: seq))
    }

    func exec(processJSON: String, stdin: Bool) async throws -> ExecStarted {
        try ExecStarted.decode(try await call(.exec(stdin: stdin, processJSON: processJSON), timeout: .seconds(60)))
    }

    func resize(process: UInt32, rows: UInt16, cols: UInt16) async throws {
        _ = try await call(.resize(process: process, rows: rows, cols: cols))
    }

    /// The process's final state, once it exited and its output is spooled.
    func wait(process: UInt32) async throws -> ShimProcessState {
        try ShimProcessState.decode(try await call(.wait(process: process), timeout: nil))
    }

    func pause() async throws { _ = try await call(.pause) }
    func resume() async throws { _ = try await call(.resume) }

    func shutdown(kill: Bool) async throws {
        _ = try await call(.shutdown(kill: kill), timeout: .seconds(15))
    }

    private func call(_ request: ShimRequest, timeout: TimeAmount? = .seconds(30)) async throws -> [UInt8] {
        try await channel.call(request.type, payload: request.encodePayload(), timeout: timeout)
    }
}
