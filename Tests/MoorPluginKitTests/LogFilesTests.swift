import Foundation
@testable import MoorLogFiles
import MoorPluginKit
import Testing

/// The shared log-file module's pieces the drivers' tests cannot reach:
/// names of a rotated set, and gzip in and out at any offset.
@Suite struct LogFilesTests {
    @Test func namesOnlyTheFilesItWouldWrite() {
        let set = LogFileSet(directory: "/d", name: "c.log", maxFiles: 5)
        #expect(set.member("c.log.1") == .plain(1))
        #expect(set.member("c.log.12.gz") == .compressed(12))
        #expect(set.member("c.log.3.gz.tmp") == .temporary(3))
        for stranger in ["c.log", "c.log.0", "c.log.01", "c.log.+1", "c.log.1.gz.bak", "c.log.gz", "d.log.1", "c.log.1x"] {
            #expect(set.member(stranger) == nil, "\(stranger)")
        }
        #expect(set.compressedPath(2) == "/d/c.log.2.gz" && set.temporaryPath(2) == "/d/c.log.2.gz.tmp")
    }

    @Test func rotationMovesOneCopyOfAGenerationThatHasBoth() async throws {
        try await withTemporaryDirectory { dir in
            let set = LogFileSet(directory: dir, name: "c.log", maxFiles: 4)
            try createFile("\(dir)/c.log", Array("current".utf8))
            try createFile("\(dir)/c.log.1", Array("one".utf8))
            try createFile("\(dir)/c.log.1.gz", Array("one, compressed".utf8))
            try createFile("\(dir)/c.log.2.gz", Array("two".utf8))
            try createFile("\(dir)/c.log.1.gz.tmp", Array("left by a crash".utf8))
            try set.rotate()
            #expect(try rotatedNames("\(dir)/c.log") == ["1", "1.gz.tmp", "2.gz", "3.gz"])
            #expect(try fileText("\(dir)/c.log.1") == "current")
            #expect(try fileText("\(dir)/c.log.2.gz") == "one, compressed")
            try set.tidy()
            #expect(try rotatedNames("\(dir)/c.log") == ["1", "2.gz", "3.gz"])
        }
    }

    /// Bytes that compress, but not to nothing: a counter's text.
    private func sample(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var value = 0
        while out.count < count {
            out += Array("\(value * 7919 % 100_003),".utf8)
            value += 1
        }
        return Array(out.prefix(count))
    }

    private func compressed(_ plain: [UInt8], in dir: String) throws -> String {
        try createFile("\(dir)/plain", plain)
        let source = try #require(try PosixFile.openIfPresent("\(dir)/plain"))
        let target = try PosixFile.open("\(dir)/plain.gz", O_WRONLY | O_CREAT | O_TRUNC)
        try GzipCompressor.compress(source, into: target)
        target.close()
        return "\(dir)/plain.gz"
    }

    @Test func compressesWhatGzipReadsBack() async throws {
        for size in [0, 1, 65_536, 300_001] {
            try await withTemporaryDirectory { dir in
                let plain = sample(size)
                let path = try compressed(plain, in: dir)
                #expect(try gzipAccepts(path), "size \(size)")
                #expect(try zcatBytes(path) == plain, "size \(size)")
            }
        }
    }

    @Test func inflatesAtAnyOffsetForwardsAndBackwards() async throws {
        try await withTemporaryDirectory { dir in
            let plain = sample(300_001)
            let input = GzipFileInput(try #require(try PosixFile.openIfPresent(try compressed(plain, in: dir))))
            let reads: [(Int, Int)] = [(0, 10), (10, 70_000), (200_000, 5), (100, 50), (299_990, 100), (300_001, 4), (5, 1)]
            for (offset, count) in reads {
                let expected = Array(plain[min(offset, plain.count)..<min(offset + count, plain.count)])
                #expect(try input.read(at: Int64(offset), count: count) == expected, "at \(offset)")
            }
            #expect(input.path == "\(dir)/plain.gz")
        }
    }

    @Test func refusesACompressedFileThatIsNotGzip() async throws {
        try await withTemporaryDirectory { dir in
            try createFile("\(dir)/x.gz", Array("not gzip at all".utf8))
            let input = GzipFileInput(try #require(try PosixFile.openIfPresent("\(dir)/x.gz")))
            let error = await logDriverError { _ = try input.read(at: 0, count: 10) }
            #expect(error?.description.contains("\(dir)/x.gz") == true)
        }
    }
}
