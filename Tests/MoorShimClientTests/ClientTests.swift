import Foundation
import Testing
@testable import MoorShimClient

/// ShimClient against a fake shim on a real unix socket: framing, request
/// ids, reply matching, errors and time limits.
@Suite struct ClientTests {
    @Test func everyCallSendsItsRequestWithIncreasingIds() throws {
        let shim = try FakeShim(answer: FakeShim.plausible)
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        #expect(try client.hello() == ShimHello(shimPid: 10, initPid: 11, build: "fake"))
        #expect(client.peer?.build == "fake")
        #expect(try client.state(process: 2).exitCode == 3)
        try client.signal(process: 0, signal: SIGTERM, all: true)
        #expect(try client.writeStdin(process: 0, bytes: Array("hi".utf8)) == 2)
        try client.closeStdin(process: 0)
        #expect(try client.readSpool(process: 1, from: 5, maxBytes: 4096) == SpoolBatch(nextSeq: 1, records: []))
        try client.ack(process: 1, seq: 4)
        #expect(try client.exec(processJSON: #"{"args":["true"]}"#, stdin: true) == ExecStarted(process: 1, pid: 12))
        try client.resize(process: 0, rows: 24, cols: 80)
        #expect(try client.wait(process: 1).status == .exited)
        try client.pause()
        try client.resume()
        try client.shutdown(kill: true)
        client.close()
        shim.stop()

        let expected: [ShimRequest] = [
            .hello(major: ShimProtocol.major, minor: ShimProtocol.minor), .state(process: 2),
            .signal(process: 0, signal: SIGTERM, all: true), .stdinWrite(process: 0, bytes: Array("hi".utf8)),
            .stdinClose(process: 0), .spoolRead(process: 1, maxBytes: 4096, fromSeq: 5), .spoolAck(process: 1, seq: 4),
            .exec(stdin: true, processJSON: #"{"args":["true"]}"#), .resize(process: 0, rows: 24, cols: 80),
            .wait(process: 1), .pause, .resume, .shutdown(kill: true),
        ]
        let frames = shim.received
        #expect(try frames.map { try ShimRequest.decode(type: $0.type, payload: $0.payload) } == expected)
        #expect(frames.map(\.requestId) == Array(1...UInt32(expected.count)))
        #expect(frames.allSatisfy { $0.flags == 0 })
    }

    @Test func repliesSplitIntoSingleBytesAreReassembled() throws {
        let shim = try FakeShim(byteByByte: true, answer: FakeShim.plausible)
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        #expect(try client.hello().build == "fake")
        #expect(try client.wait(process: 0).exitCode == 3)
    }

    @Test func errorReplyBecomesTheShimsErrnoAndMessage() throws {
        let shim = try FakeShim { request in
            request.type == .state ? FakeShim.error(request, code: ESRCH, "no process 99 in container c1")
                                   : FakeShim.plausible(request)
        }
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        let error = shimError { _ = try client.state(process: 99) }
        #expect(error == ShimError(code: ESRCH, message: "no process 99 in container c1", context: shim.socketPath))
        #expect(try client.hello().build == "fake", "an error reply leaves the connection usable")
    }

    @Test func timeoutNamesTheSocketAndTheLateReplyIsSkipped() throws {
        let shim = try FakeShim { request in
            switch request.type {
            case .state: []  // never answered in time...
            case .hello:  // ...but answered late, just before the next reply
                FakeShim.reply(request, .state(ShimProcessState(status: .running, pid: 1)), id: request.requestId - 1)
                    + FakeShim.plausible(request)
            default: FakeShim.plausible(request)
            }
        }
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 0.2)
        let error = shimError { _ = try client.state(process: 0) }
        #expect(error?.code == ETIMEDOUT)
        #expect(error?.context == shim.socketPath)
        #expect("\(error.map { "\($0)" } ?? "")".contains(shim.socketPath))
        #expect(try client.hello().build == "fake")
    }

    @Test func waitHasItsOwnTimeLimit() throws {
        let shim = try FakeShim { request in request.type == .wait ? [] : FakeShim.plausible(request) }
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        let error = shimError { _ = try client.wait(process: 0, timeout: 0.1) }
        #expect(error?.code == ETIMEDOUT)
        #expect(error?.message.contains("WAIT") == true)
    }

    @Test func replyForAnUnknownIdMakesTheConnectionUnusable() throws {
        let shim = try FakeShim { request in FakeShim.reply(request, .empty, id: request.requestId + 100) }
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        #expect(shimError { try client.pause() }?.code == EPROTO)
        let again = shimError { try client.resume() }
        #expect(again?.code == EPROTO)
        #expect(again?.message.contains("unusable") == true)
        #expect(shim.received.count == 1, "nothing more is sent on a broken connection")
    }

    @Test func replyOfTheWrongTypeIsEPROTO() throws {
        let shim = try FakeShim { request in
            FakeShim.frame(type: ShimMessageType.hello.reply, id: request.requestId, payload: [])
        }
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        #expect(shimError { try client.pause() }?.code == EPROTO)
    }

    @Test func garbageFromTheShimIsEPROTONeverATrap() throws {
        let shim = try FakeShim { _ in [UInt8](repeating: 0x41, count: 40) }
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        let error = shimError { _ = try client.hello() }
        #expect(error?.code == EPROTO)
        #expect(error?.message.contains("magic") == true)
    }

    @Test func truncatedReplyPayloadIsEPROTONamingTheField() throws {
        let shim = try FakeShim { request in
            FakeShim.frame(type: request.type.reply, id: request.requestId, payload: Array(ReplyTests.stateBlock.prefix(50)))
        }
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        let error = shimError { _ = try client.state() }
        #expect(error?.code == EPROTO)
        #expect(error?.message.contains("spool next seq") == true, "\(String(describing: error))")
    }

    @Test func shimHangingUpIsECONNRESET() throws {
        let shim = try FakeShim(answer: FakeShim.plausible)
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        _ = try client.hello()  // the fake has accepted; now it goes away
        shim.hangUp()
        let error = shimError { _ = try client.state() }
        #expect(error?.code == ECONNRESET || error?.code == EPIPE)
        #expect(error?.context == shim.socketPath)
    }

    @Test func aShimOfAnotherMajorIsNotSpokenTo() throws {
        let shim = try FakeShim { request in
            FakeShim.reply(request, .hello(ShimHello(major: ShimProtocol.major + 1, minor: 0, shimPid: 5, initPid: 6, build: "future")))
        }
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        let hello = try client.hello()
        #expect(!hello.isSpoken)
        #expect(hello.build == "future")
        let error = shimError { _ = try client.state() }
        #expect(error?.code == EPROTONOSUPPORT)
        #expect(error?.message.contains("future") == true)
        #expect(shim.received.map(\.type) == [.hello])
    }

    @Test func stdinWritesAreCappedAndAnOverclaimIsRefused() throws {
        let shim = try FakeShim { request in
            let sent = request.payload.count - 4
            return FakeShim.reply(request, .stdinAccepted(UInt32(sent == 1 ? 5 : sent)))
        }
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        let big = [UInt8](repeating: 0x61, count: ShimClient.maxStdinWrite + 10)
        #expect(try client.writeStdin(bytes: big) == ShimClient.maxStdinWrite)
        #expect(shimError { _ = try client.writeStdin(bytes: [0x61]) }?.code == EPROTO)
    }

    @Test func connectingToNoShimNamesThePath() throws {
        let dir = try TempDir()
        let path = dir.path + "/absent.sock"
        let error = shimError { _ = try ShimClient(socketPath: path, timeout: 1) }
        #expect(error?.code == ENOENT)
        #expect(error?.context == path)
        #expect(error?.message.contains("connect") == true)
        #expect(shimError { _ = try ShimClient(socketPath: dir.path + "/" + String(repeating: "x", count: 120), timeout: 1) }?.code
            == ENAMETOOLONG)
        #expect(shimError { _ = try ShimClient(socketPath: path, timeout: 0) }?.code == EINVAL)
    }

    @Test func aClosedClientRefusesCalls() throws {
        let shim = try FakeShim(answer: FakeShim.plausible)
        defer { shim.stop() }
        let client = try ShimClient(socketPath: shim.socketPath, timeout: 10)
        client.close()
        #expect(shimError { _ = try client.hello() }?.code == EBADF)
    }
}
