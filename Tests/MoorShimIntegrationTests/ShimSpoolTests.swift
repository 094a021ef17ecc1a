import Foundation
import Testing
@testable import MoorShimClient

/// The container's output goes to the disk spool: it never blocks, nothing
/// is lost without being counted, and a reader acknowledges to reclaim.
@Suite(.serialized) struct ShimSpoolTests {
    @Test func aWriterWithNoReaderNeverBlocksAndEveryByteIsKeptOrCounted() throws {
        // 1 GiB of output through a 16 MiB spool, nobody reading.
        let total: UInt64 = 1 << 30
        let c = try TestContainer(["dd", "if=/dev/zero", "bs=65536", "count=16384"])
        defer { c.remove() }
        try c.start(spoolMax: 16 << 20)
        // The container finishes: it never blocked on a full pipe.
        #expect(TestEnvironment.eventually(120) { (try? c.exitRecord()) != nil })
        let state = try c.waitExit()
        #expect(state.exitCode == 0)
        #expect(state.spoolBytes <= 16 << 20)
        let records = try c.records()
        let kept = records.filter { $0.stream == .stdout }.reduce(UInt64(0)) { $0 + UInt64($1.payload.count) }
        let lost = records.compactMap { $0.loss?.bytes }.reduce(UInt64(0), +)
        #expect(lost > 0)
        #expect(kept + lost == total, "kept \(kept) + lost \(lost) must be exactly what dd wrote")
        #expect(state.lostBytes == lost)
        // Sequence numbers only ever increase.
        let seqs = records.map(\.seq)
        #expect(seqs == seqs.sorted())
    }

    @Test func acknowledgingReclaimsSpoolSegments() throws {
        let c = try TestContainer(["dd", "if=/dev/zero", "bs=65536", "count=64"])
        defer { c.remove() }
        try c.start(spoolMax: 1 << 20)
        _ = try c.waitExit()
        let client = try c.client()
        let before = try client.state(process: 0)
        #expect(before.spoolBytes > 0)
        try client.ack(process: 0, seq: before.spoolNextSeq - 1)
        let after = try client.state(process: 0)
        #expect(after.spoolAckedSeq == before.spoolNextSeq - 1)
        #expect(after.spoolBytes < before.spoolBytes)
    }

    @Test func recordsCarryTheTimeTheShimReadThem() throws {
        let c = try TestContainer(["sh", "-c", "echo a; sleep 1; echo b"])
        defer { c.remove() }
        try c.start()
        _ = try c.waitExit()
        let records = try c.records().filter { $0.stream == .stdout }
        #expect(records.count == 2)
        if records.count == 2 {
            let gap = Double(records[1].timeNs - records[0].timeNs) / 1e9
            #expect(gap >= 0.9 && gap < 5, "gap \(gap)s")
        }
    }

    @Test func malformedMessagesGetAnErrorAndNeverCrashTheShim() throws {
        let c = try TestContainer(["sleep", "1000"])
        defer { c.remove() }
        try c.start()
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(c.socketPath.utf8)
            raw.copyBytes(from: bytes.prefix(raw.count - 1))
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(rc == 0)
        // Garbage header: the shim answers with an error and hangs up.
        let garbage: [UInt8] = Array(repeating: 0x41, count: 16)
        _ = garbage.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        // The reply may come in more than one read: read until the shim
        // hangs up (or 5 s pass, so a shim that does not cannot hang the test).
        var limit = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var reply = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 256)
        while reply.count < 4096 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            reply += chunk[0..<n]
        }
        try #require(reply.count >= 20)
        #expect(reply[4] == 0xff && reply[5] == 0xff, "an error reply")
        // The shim is fine and serves other clients.
        let client = try c.client()
        #expect(try client.hello().major == 1)
        #expect(try client.state(process: 0).status == .running)
        // Unknown message type and unknown process: errors, not crashes.
        #expect(throws: ShimError.self) { _ = try client.state(process: 99) }
    }
}
