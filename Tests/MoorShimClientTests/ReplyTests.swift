import Glibc
import Testing
@testable import MoorShimClient

/// Decoding of every reply payload, written out by hand as the C shim
/// lays them out (CShim/core/handlers.c).
@Suite struct ReplyTests {
    static let stateBlock: [UInt8] =
        le32(UInt32(1)) + le32(UInt32(3)) + le32(UInt32(4242)) + le32(UInt32(137)) + le32(UInt32(9))
        + le32(UInt32(1 | 2 | 4)) + le64(1_000) + le64(2_000) + le64(5) + le64(12) + le64(4) + le64(777) + le64(64)

    @Test func stateBlockDecodesEveryField() throws {
        #expect(Self.stateBlock.count == ShimProcessState.size)
        let state = try ShimProcessState.decode(Self.stateBlock)
        #expect(state == ShimProcessState(
            process: 1, status: .exited, pid: 4242, exitCode: 137, signal: 9, oomKilled: true,
            terminal: true, stdinOpen: true, startedNs: 1_000, finishedNs: 2_000, spoolFirstSeq: 5,
            spoolNextSeq: 12, spoolAckedSeq: 4, spoolBytes: 777, lostBytes: 64))
        #expect(state.encode() == Self.stateBlock)
    }

    @Test func stateBlockFlagsAreIndependentBits() throws {
        var block = Self.stateBlock
        block.replaceSubrange(20..<24, with: le32(UInt32(4 | 0x100)))
        let state = try ShimProcessState.decode(block)
        #expect(!state.oomKilled && !state.terminal && state.stdinOpen, "unknown bits ignored")
    }

    @Test func stateBlockWithAnUnknownStatusNamesFieldAndOffset() {
        var block = Self.stateBlock
        block.replaceSubrange(4..<8, with: le32(UInt32(9)))
        let error = shimError { _ = try ShimProcessState.decode(block) }
        #expect(error?.code == EPROTO)
        #expect(error?.message == "state block: status at offset 4: unknown value 9")
    }

    @Test func everyTruncationOfAStateBlockThrows() {
        for cut in 0..<ShimProcessState.size {
            let error = shimError { _ = try ShimProcessState.decode(Array(Self.stateBlock.prefix(cut))) }
            #expect(error?.code == EPROTO, "cut at \(cut)")
        }
        #expect(shimError { _ = try ShimProcessState.decode(Self.stateBlock + [1, 2, 3]) } == nil,
                "bytes a newer minor appends are ignored")
    }

    @Test func helloReplyDecodes() throws {
        let payload = le16(1) + le16(0) + le32(UInt32(100)) + le32(UInt32(101)) + Array("moor-shim 0.1.0".utf8)
        let hello = try ShimHello.decode(payload)
        #expect(hello == ShimHello(major: 1, minor: 0, shimPid: 100, initPid: 101, build: "moor-shim 0.1.0"))
        #expect(hello.isSpoken)
        #expect(hello.encode() == payload)
        #expect(shimError { _ = try ShimHello.decode(Array(payload.prefix(10))) }?.code == EPROTO)
    }

    @Test func helloOfAnotherMajorNeedsOnlyTheVersion() throws {
        let hello = try ShimHello.decode(le16(2) + le16(7))
        #expect(hello.major == 2 && hello.minor == 7)
        #expect(!hello.isSpoken)
        #expect(!ShimClient.speaks(major: 2))
        #expect(ShimClient.speaks(major: ShimProtocol.major))
        #expect(shimError { _ = try ShimHello.decode(le16(2)) }?.code == EPROTO)
    }

    @Test func execAndStdinRepliesDecode() throws {
        #expect(try ShimReply.decode(le32(UInt32(2)) + le32(Int32(555)), answering: .exec)
            == .exec(ExecStarted(process: 2, pid: 555)))
        #expect(try ShimReply.decode(le32(UInt32(11)), answering: .stdinWrite) == .stdinAccepted(11))
        #expect(shimError { _ = try ShimReply.decode(le32(UInt32(2)), answering: .exec) }?.code == EPROTO)
        #expect(shimError { _ = try ShimReply.decode([1, 2], answering: .stdinWrite) }?.code == EPROTO)
    }

    @Test func emptyRepliesAcceptAppendedFields() throws {
        for type in [ShimMessageType.signal, .stdinClose, .spoolAck, .resize, .shutdown, .pause, .resume] {
            #expect(try ShimReply.decode([], answering: type) == .empty)
            #expect(try ShimReply.decode([1, 2, 3], answering: type) == .empty)
        }
    }

    @Test func everyReplyRoundTrips() throws {
        let replies: [(ShimMessageType, ShimReply)] = [
            (.hello, .hello(ShimHello(shimPid: 1, initPid: 2, build: "b"))),
            (.state, .state(try ShimProcessState.decode(Self.stateBlock))),
            (.wait, .state(ShimProcessState(status: .running, pid: 3))),
            (.stdinWrite, .stdinAccepted(4)),
            (.spoolRead, .spool(try Self.batchWithLoss())),
            (.exec, .exec(ExecStarted(process: 1, pid: 9))),
            (.pause, .empty),
        ]
        for (type, reply) in replies {
            #expect(try ShimReply.decode(reply.encodePayload(), answering: type) == reply)
        }
    }

    // MARK: Spool

    static func record(seq: UInt64, stream: UInt8, time: UInt64, _ payload: [UInt8]) -> [UInt8] {
        le32(UInt32(payload.count)) + [stream, 0] + le16(0x4d52) + le64(seq) + le64(time) + payload
    }

    static let lossPayload = le64(4096) + le64(2) + le64(3) + le64(4)

    static func batchBytes() -> [UInt8] {
        le64(7) + record(seq: 2, stream: 1, time: 10, Array("out\n".utf8))
            + record(seq: 5, stream: 3, time: 11, lossPayload)
            + record(seq: 6, stream: 2, time: 12, Array("err\n".utf8))
    }

    static func batchWithLoss() throws -> SpoolBatch { try SpoolBatch.decode(batchBytes()) }

    @Test func spoolBatchWithALossRecordDecodes() throws {
        let batch = try Self.batchWithLoss()
        #expect(batch.nextSeq == 7)
        #expect(batch.records.map(\.seq) == [2, 5, 6])
        #expect(batch.records.map(\.stream) == [.stdout, .loss, .stderr])
        #expect(batch.records.map(\.timeNs) == [10, 11, 12])
        #expect(batch.records[0].payload == Array("out\n".utf8))
        #expect(batch.records[0].loss == nil)
        #expect(batch.records[1].loss == LossRecord(bytes: 4096, records: 2, firstSeq: 3, lastSeq: 4))
        #expect(batch.encode() == Self.batchBytes())
    }

    @Test func emptySpoolBatchIsJustTheNextSeq() throws {
        #expect(try SpoolBatch.decode(le64(1)) == SpoolBatch(nextSeq: 1, records: []))
        #expect(shimError { _ = try SpoolBatch.decode([1, 0, 0]) }?.code == EPROTO)
    }

    @Test func everyTruncationOfASpoolBatchThrowsOrStopsAtARecordBoundary() {
        let bytes = Self.batchBytes()
        let boundaries: Set<Int> = [8, 8 + 28, 8 + 28 + 56, bytes.count]
        for cut in 0..<bytes.count {
            let error = shimError { _ = try SpoolBatch.decode(Array(bytes.prefix(cut))) }
            if boundaries.contains(cut) {
                #expect(error == nil, "cut at \(cut) is whole records")
            } else {
                #expect(error?.code == EPROTO, "cut at \(cut)")
            }
        }
    }

    @Test func recordWithABadMagicStreamOrLengthIsRefused() {
        var badMagic = Self.batchBytes()
        badMagic[8 + 6] = 0
        let magicError = shimError { _ = try SpoolBatch.decode(badMagic) }
        #expect(magicError?.code == EPROTO)
        #expect(magicError?.message.contains("record 0 magic at offset 14") == true)

        var badStream = Self.batchBytes()
        badStream[8 + 4] = 9
        #expect(shimError { _ = try SpoolBatch.decode(badStream) }?.message.contains("unknown stream 9") == true)

        let oversized = le64(2) + le32(UInt32(64 * 1024 + 1)) + [1, 0] + le16(0x4d52) + le64(1) + le64(1)
        #expect(shimError { _ = try SpoolBatch.decode(oversized) }?.code == EMSGSIZE)
    }

    @Test func lossRecordWithAShortPayloadIsRefused() {
        let bytes = le64(2) + Self.record(seq: 1, stream: 3, time: 0, Array(Self.lossPayload.prefix(24)))
        let error = shimError { _ = try SpoolBatch.decode(bytes) }
        #expect(error?.code == EPROTO)
        #expect(error?.message.contains("loss record 1") == true)
    }

    @Test func spoolSegmentBytesDecodeWithoutABatchHeader() throws {
        let segment = Self.record(seq: 1, stream: 1, time: 5, [0x61]) + Self.record(seq: 2, stream: 2, time: 6, [])
        let records = try SpoolRecord.decodeAll(segment[...])
        #expect(records.map(\.seq) == [1, 2])
        #expect(records[1].payload.isEmpty)
    }
}
