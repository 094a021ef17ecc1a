import Foundation
import Testing
@testable import MoorImages

@Suite("decompression")
struct CompressionTests {
    private func decode(_ bytes: [UInt8], chunk: Int = 1000) throws -> (Compression?, [UInt8]) {
        let stream = DecodingStream()
        var output = [UInt8]()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            try bytes[offset..<end].withUnsafeBytes { try stream.feed($0) { output.append(contentsOf: $0) } }
            offset = end
        }
        try stream.finish(openEntry: { nil }) { output.append(contentsOf: $0) }
        return (stream.compression, output)
    }

    private let sample: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: ($0 * 31) ^ ($0 >> 9)) }

    @Test("gzip, xz and zstd streams decode whatever the chunk size; plain passes through",
          arguments: [("/usr/bin/gzip", Compression.gzip), ("/usr/bin/xz", .xz), ("/usr/bin/zstd", .zstd)])
    func roundTrip(program: String, compression: Compression) throws {
        let compressed = try run(program, ["-c"], input: sample)
        for chunk in [1, 7, 4096, 1 << 20] where chunk > 1 || compressed.count < 20_000 {
            let (detected, output) = try decode(compressed, chunk: chunk)
            #expect(detected == compression)
            #expect(output == sample)
        }
        #expect(try decode(sample).1 == sample)
        #expect(try decode(Array("tiny".utf8)).1 == Array("tiny".utf8))
    }

    @Test("concatenated streams are one stream", arguments: ["/usr/bin/gzip", "/usr/bin/xz", "/usr/bin/zstd"])
    func concatenated(program: String) throws {
        let half = sample.count / 2
        let joined = try run(program, ["-c"], input: Array(sample.prefix(half)))
            + run(program, ["-c"], input: Array(sample.suffix(from: half)))
        #expect(try decode(joined).1 == sample)
    }

    @Test("truncated and corrupt streams are refused", arguments: ["/usr/bin/gzip", "/usr/bin/xz", "/usr/bin/zstd"])
    func broken(program: String) throws {
        let compressed = try run(program, ["-c"], input: sample)
        let cut = #expect(throws: ImagesError.self) { try decode(Array(compressed.prefix(compressed.count / 2))) }
        #expect(cut?.message.contains("truncated") == true, "\(String(describing: cut))")
        var corrupt = compressed
        for index in 20..<min(200, corrupt.count) { corrupt[index] ^= 0xa5 }
        #expect(throws: ImagesError.self) { try decode(corrupt) }
    }

    @Test("an xz stream needing more memory than the bound is refused")
    func xzMemoryBound() throws {
        // A 1 GiB dictionary: decoding needs over 1 GiB, beyond the 512 MiB
        // bound (Python's lzma writes the size asked for; xz(1) shrinks it).
        let script = "import lzma, sys; sys.stdout.buffer.write(lzma.compress(sys.stdin.buffer.read(), "
            + "format=lzma.FORMAT_XZ, filters=[{'id': lzma.FILTER_LZMA2, 'dict_size': 1 << 30, 'preset': 0}]))"
        let greedy = try run("/usr/bin/python3", ["-c", script], input: Array(sample.prefix(1000)))
        let error = #expect(throws: ImagesError.self) { try decode(greedy) }
        #expect(error?.message.contains("memory") == true, "\(String(describing: error))")
    }
}
