import Glibc
import Testing
@testable import MoorShimClient

/// Whatever a peer sends, decoding returns or throws EPROTO/EMSGSIZE; it
/// never traps (a trap would end the test process). Seeded, so a failure
/// replays; the seed is in the message.
@Suite struct FuzzTests {
    static let iterations = 2_000

    static func randomBytes(_ rng: inout SplitMix64, maxCount: Int) -> [UInt8] {
        (0..<Int.random(in: 0...maxCount, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// Random damage to valid input finds more than pure noise: flips,
    /// cuts and insertions near the structure the decoder checks.
    static func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var out = bytes
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where !out.isEmpty:
                out[Int.random(in: 0..<out.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !out.isEmpty:
                out.removeLast(Int.random(in: 0...min(out.count, 40), using: &rng))
            case 2:
                out.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...out.count, using: &rng))
            default:
                out += randomBytes(&rng, maxCount: 8)
            }
        }
        return out
    }

    static func expectProtocolError(_ label: @autoclosure () -> String, _ body: () throws -> Void) {
        guard let error = shimError(body) else { return }
        if error.code != EPROTO && error.code != EMSGSIZE {
            Issue.record("\(label()): \(error)")
        }
    }

    static func decodeEverything(_ bytes: [UInt8], _ label: String) {
        expectProtocolError("header \(label)") { _ = try ShimCodec.decodeHeader(bytes) }
        expectProtocolError("frame \(label)") { _ = try ShimCodec.decodeFrame(bytes) }
        expectProtocolError("error reply \(label)") { _ = try ShimCodec.decodeError(bytes) }
        for type in ShimMessageType.requests {
            expectProtocolError("\(type) reply \(label)") { _ = try ShimReply.decode(bytes, answering: type) }
            expectProtocolError("\(type) request \(label)") { _ = try ShimRequest.decode(type: type, payload: bytes) }
        }
        expectProtocolError("records \(label)") { _ = try SpoolRecord.decodeAll(bytes[...]) }
        var decoder = ShimFrameDecoder()
        decoder.append(bytes)
        expectProtocolError("stream \(label)") { while try decoder.next() != nil {} }
    }

    @Test func randomBytesNeverTrap() {
        let seed: UInt64 = 0x6d6f_6f72
        var rng = SplitMix64(seed: seed)
        for i in 0..<Self.iterations {
            var bytes = Self.randomBytes(&rng, maxCount: 120)
            // Half the time start with a valid magic, to get past it.
            if i % 2 == 0 && bytes.count >= 4 { bytes.replaceSubrange(0..<4, with: [0x4d, 0x4f, 0x4f, 0x52]) }
            Self.decodeEverything(bytes, "seed \(seed) iteration \(i)")
        }
    }

    @Test func damagedValidMessagesNeverTrap() throws {
        let seed: UInt64 = 0x7368_696d
        var rng = SplitMix64(seed: seed)
        let samples: [[UInt8]] = [
            ReplyTests.batchBytes(),
            ReplyTests.stateBlock,
            try ShimCodec.encode(ShimFrame(type: ShimMessageType.spoolRead.reply, requestId: 1, payload: ReplyTests.batchBytes())),
            try ShimCodec.encode(ShimFrame(type: .error, requestId: 2, payload: le32(EIO) + Array("x".utf8))),
            ShimHello(shimPid: 1, initPid: 2, build: "moor-shim").encode(),
        ]
        for i in 0..<Self.iterations {
            let bytes = Self.mutate(samples[i % samples.count], &rng)
            Self.decodeEverything(bytes, "seed \(seed) iteration \(i)")
        }
    }

    @Test func headersAnnouncingHugeLengthsAreRefusedWithoutAllocating() {
        for length in [UInt32(ShimCodec.maxPayload + 1), UInt32.max, UInt32(Int32.max)] {
            let header = ShimCodec.encode(ShimHeader(type: ShimMessageType.spoolRead.reply, requestId: 1, length: length))
            #expect(shimError { _ = try ShimCodec.decodeHeader(header) }?.code == EMSGSIZE)
            var decoder = ShimFrameDecoder()
            decoder.append(header)
            #expect(shimError { _ = try decoder.next() }?.code == EMSGSIZE)
        }
        let record = le64(1) + le32(UInt32.max) + [1, 0] + le16(0x4d52) + le64(1) + le64(1)
        #expect(shimError { _ = try SpoolBatch.decode(record) }?.code == EMSGSIZE)
    }
}
