import Glibc
import Testing
@testable import MoorShimClient

/// Framing and request encoding against the tables of docs/shim-protocol.md.
@Suite struct CodecTests {
    @Test func headerRoundTripsAndHasTheDocumentedLayout() throws {
        let header = ShimHeader(type: .spoolRead, flags: 0, requestId: 0x0102_0304, length: 16)
        let bytes = ShimCodec.encode(header)
        #expect(bytes == [0x4d, 0x4f, 0x4f, 0x52] + le16(6) + le16(0) + le32(UInt32(0x0102_0304)) + le32(UInt32(16)))
        #expect(Array("MOOR".utf8) == Array(bytes.prefix(4)))
        #expect(try ShimCodec.decodeHeader(bytes) == header)
    }

    @Test func replyTypesSetTheTopBit() {
        #expect(ShimMessageType.wait.reply.rawValue == 0x800b)
        #expect(ShimMessageType.error.rawValue == 0xffff)
        #expect(ShimMessageType.hello.reply.isReply)
        #expect(!ShimMessageType.error.isReply)
        #expect("\(ShimMessageType.spoolAck.reply)" == "SPOOL_ACK reply")
    }

    @Test func frameRoundTrips() throws {
        let frame = ShimFrame(type: .exec, requestId: 9, payload: [1, 2, 3])
        let bytes = try ShimCodec.encode(frame)
        #expect(bytes.count == 19)
        #expect(try ShimCodec.decodeFrame(bytes) == frame)
    }

    /// Every request, byte for byte as the protocol table lays it out.
    @Test(arguments: [
        (ShimRequest.hello(major: 1, minor: 0), le16(1) + le16(0)),
        (.state(process: 7), le32(UInt32(7))),
        (.signal(process: 0, signal: SIGTERM, all: true), le32(UInt32(0)) + le32(SIGTERM) + le32(UInt32(1))),
        (.signal(process: 2, signal: SIGKILL, all: false), le32(UInt32(2)) + le32(SIGKILL) + le32(UInt32(0))),
        (.stdinWrite(process: 1, bytes: [0x61, 0x0a]), le32(UInt32(1)) + [0x61, 0x0a]),
        (.stdinClose(process: 3), le32(UInt32(3))),
        (.spoolRead(process: 1, maxBytes: 65536, fromSeq: 0x1_0000_0002),
         le32(UInt32(1)) + le32(UInt32(65536)) + le64(0x1_0000_0002)),
        (.spoolAck(process: 4, seq: 99), le32(UInt32(4)) + le32(UInt32(0)) + le64(99)),
        (.exec(stdin: true, processJSON: "{}"), le32(UInt32(1)) + Array("{}".utf8)),
        (.exec(stdin: false, processJSON: "{}"), le32(UInt32(0)) + Array("{}".utf8)),
        (.resize(process: 0, rows: 33, cols: 101), le32(UInt32(0)) + le16(33) + le16(101)),
        (.shutdown(kill: true), le32(UInt32(1))),
        (.shutdown(kill: false), le32(UInt32(0))),
        (.wait(process: 5), le32(UInt32(5))),
        (.pause, []),
        (.resume, []),
    ] as [(ShimRequest, [UInt8])])
    func requestEncodesToTheDocumentedLayout(request: ShimRequest, expected: [UInt8]) throws {
        #expect(request.encodePayload() == expected)
        #expect(try ShimRequest.decode(type: request.type, payload: expected) == request)
    }

    @Test func requestTypesMatchTheTable() {
        let types: [ShimMessageType] = [.hello, .state, .signal, .stdinWrite, .stdinClose, .spoolRead,
                                        .spoolAck, .exec, .resize, .shutdown, .wait, .pause, .resume]
        #expect(types.map(\.rawValue) == Array(1...13))
        #expect(ShimMessageType.requests == types)
    }

    @Test func errorReplyCarriesTheShimsErrnoAndMessage() throws {
        let payload = le32(ESRCH) + Array("no process 99 in container c1".utf8) + [0]
        let error = try ShimCodec.decodeError(payload)
        #expect(error.code == ESRCH)
        #expect(error.message == "no process 99 in container c1")
        #expect(ShimCodec.encodeError(code: ESRCH, message: "x") == le32(ESRCH) + [0x78])
    }

    @Test func errorReplyWithANonPositiveErrnoIsStillAnError() throws {
        let error = try ShimCodec.decodeError(le32(Int32(-5)) + Array("odd".utf8))
        #expect(error.code == EPROTO)
        #expect(error.message.contains("odd"))
    }

    @Test func replyPayloadTurnsAnErrorFrameIntoTheThrownError() {
        let frame = ShimFrame(type: .error, requestId: 3, payload: le32(EBUSY) + Array("busy".utf8))
        let error = shimError { _ = try ShimCodec.replyPayload(frame, to: .shutdown, requestId: 3) }
        #expect(error == ShimError(code: EBUSY, message: "busy"))
    }

    @Test func replyPayloadRefusesAnotherIdOrType() {
        let frame = ShimFrame(type: ShimMessageType.state.reply, requestId: 3, payload: [])
        #expect(shimError { _ = try ShimCodec.replyPayload(frame, to: .state, requestId: 4) }?.code == EPROTO)
        #expect(shimError { _ = try ShimCodec.replyPayload(frame, to: .wait, requestId: 3) }?.code == EPROTO)
    }

    @Test func badMagicAndOversizedLengthsAreRefused() {
        var header = ShimCodec.encode(ShimHeader(type: .hello, requestId: 1, length: 0))
        header[0] = 0x41
        let bad = shimError { _ = try ShimCodec.decodeHeader(header) }
        #expect(bad?.code == EPROTO)
        #expect(bad?.message.contains("magic") == true)

        let huge = ShimCodec.encode(ShimHeader(type: .hello, requestId: 1, length: UInt32(ShimCodec.maxPayload + 1)))
        #expect(shimError { _ = try ShimCodec.decodeHeader(huge) }?.code == EMSGSIZE)
        let tooBig = ShimFrame(type: .exec, requestId: 1, payload: [UInt8](repeating: 0, count: ShimCodec.maxPayload + 1))
        #expect(shimError { _ = try ShimCodec.encode(tooBig) }?.code == EMSGSIZE)
    }

    @Test func truncatedOrPaddedFramesAreRefused() throws {
        let bytes = try ShimCodec.encode(ShimFrame(type: .state, requestId: 1, payload: le32(UInt32(0))))
        for cut in 0..<bytes.count {
            #expect(shimError { _ = try ShimCodec.decodeFrame(Array(bytes.prefix(cut))) }?.code == EPROTO)
        }
        #expect(shimError { _ = try ShimCodec.decodeFrame(bytes + [0]) }?.code == EPROTO)
    }

    @Test func truncatedRequestsNameTheField() {
        let error = shimError { _ = try ShimRequest.decode(type: .spoolRead, payload: le32(UInt32(0)) + le32(UInt32(1))) }
        #expect(error?.code == EPROTO)
        #expect(error?.message.contains("from_seq") == true)
        #expect(error?.message.contains("offset 8") == true)
        #expect(shimError { _ = try ShimRequest.decode(type: ShimMessageType(rawValue: 77), payload: []) }?.code == EPROTO)
    }

    @Test func frameDecoderCutsAStreamFedInAnyPieces() throws {
        let frames = [
            ShimFrame(type: ShimMessageType.hello.reply, requestId: 1, payload: Array("abc".utf8)),
            ShimFrame(type: ShimMessageType.pause.reply, requestId: 2),
            ShimFrame(type: .error, requestId: 3, payload: le32(EIO)),
        ]
        let stream = try frames.flatMap { try ShimCodec.encode($0) }
        for pieceSize in [1, 3, 16, 17, stream.count] {
            var decoder = ShimFrameDecoder()
            var got: [ShimFrame] = []
            var offset = 0
            while offset < stream.count {
                decoder.append(stream[offset..<min(offset + pieceSize, stream.count)])
                offset += pieceSize
                while let frame = try decoder.next() { got.append(frame) }
            }
            #expect(got == frames, "pieces of \(pieceSize)")
            #expect(decoder.bufferedBytes == 0)
        }
    }

    @Test func frameDecoderFailsForGoodAfterABadHeader() throws {
        var decoder = ShimFrameDecoder()
        decoder.append([UInt8](repeating: 0x41, count: 16))
        #expect(shimError { _ = try decoder.next() }?.code == EPROTO)
        decoder.append(try ShimCodec.encode(ShimFrame(type: .hello, requestId: 1)))
        #expect(shimError { _ = try decoder.next() }?.code == EPROTO, "the stream is not trusted again")
    }
}
