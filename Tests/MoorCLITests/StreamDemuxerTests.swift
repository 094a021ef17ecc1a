import Testing
@testable import MoorCLI

@Suite("demultiplexing attach/exec/logs output")
struct StreamDemuxerTests {
    static func frame(_ stream: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let size = UInt32(payload.count)
        return [stream, 0, 0, 0, UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + payload
    }

    static let frames: [(UInt8, [UInt8])] = [
        (1, Array("hello\n".utf8)), (2, Array("oops\n".utf8)), (1, []), (1, Array(repeating: 0x41, count: 300)),
        (2, [0, 1, 2, 0xff]), (0, Array("echo".utf8)), (1, Array("bye\n".utf8)),
    ]
    static let wire = frames.flatMap { frame($0.0, $0.1) }
    static let expectedOut = frames.filter { $0.0 != 2 }.flatMap(\.1)
    static let expectedErr = frames.filter { $0.0 == 2 }.flatMap(\.1)

    /// Feeds `chunks` and returns what each stream received.
    func run(_ chunks: [[UInt8]]) throws -> (out: [UInt8], err: [UInt8], boundary: Bool) {
        var demuxer = StreamDemuxer()
        var out: [UInt8] = []
        var err: [UInt8] = []
        for chunk in chunks {
            for piece in try demuxer.feed(chunk) {
                if piece.stream == .stderr { err += piece.bytes } else { out += piece.bytes }
            }
        }
        return (out, err, demuxer.atFrameBoundary)
    }

    @Test("one chunk holding every frame")
    func whole() throws {
        let result = try run([Self.wire])
        #expect(result.out == Self.expectedOut)
        #expect(result.err == Self.expectedErr)
        #expect(result.boundary)
    }

    @Test("split in two at every possible offset, headers included")
    func everySplit() throws {
        for cut in 0...Self.wire.count {
            let result = try run([Array(Self.wire[..<cut]), Array(Self.wire[cut...])])
            #expect(result.out == Self.expectedOut, "cut at \(cut)")
            #expect(result.err == Self.expectedErr, "cut at \(cut)")
        }
    }

    @Test("one byte at a time")
    func byteByByte() throws {
        let result = try run(Self.wire.map { [$0] })
        #expect(result.out == Self.expectedOut)
        #expect(result.err == Self.expectedErr)
    }

    @Test("arbitrary chunk sizes (deterministic pseudo-random cuts)")
    func randomCuts() throws {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<200 {
            var chunks: [[UInt8]] = []
            var index = 0
            while index < Self.wire.count {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let size = Int(seed >> 58) + 1
                let end = min(index + size, Self.wire.count)
                chunks.append(Array(Self.wire[index..<end]))
                index = end
            }
            let result = try run(chunks)
            #expect(result.out == Self.expectedOut)
            #expect(result.err == Self.expectedErr)
        }
    }

    @Test("payload bytes come out before their frame is complete")
    func streamsPartialPayload() throws {
        var demuxer = StreamDemuxer()
        let wire = Self.frame(1, Array("abcdef".utf8))
        #expect(try demuxer.feed(wire[0..<10]) == [StreamDemuxer.Piece(stream: .stdout, bytes: Array("ab".utf8))])
        #expect(!demuxer.atFrameBoundary)
        #expect(try demuxer.feed(wire[10...]) == [StreamDemuxer.Piece(stream: .stdout, bytes: Array("cdef".utf8))])
        #expect(demuxer.atFrameBoundary)
    }

    @Test("a cut-off header is not at a frame boundary")
    func truncatedHeader() throws {
        var demuxer = StreamDemuxer()
        #expect(try demuxer.feed([1, 0, 0]).isEmpty)
        #expect(!demuxer.atFrameBoundary)
    }

    @Test("an unknown stream byte is an error naming it")
    func unknownStream() throws {
        var demuxer = StreamDemuxer()
        let error = #expect(throws: CLIError.self) { try demuxer.feed(Self.frame(7, [1])) }
        #expect(error?.message.contains("7") == true)
    }

    @Test("the daemon's error stream (3) is its own kind")
    func systemError() throws {
        var demuxer = StreamDemuxer()
        #expect(try demuxer.feed(Self.frame(3, Array("boom".utf8))) == [StreamDemuxer.Piece(stream: .systemErr, bytes: Array("boom".utf8))])
    }
}
