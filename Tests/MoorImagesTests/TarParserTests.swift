import Testing
@testable import MoorImages

/// Collects what the parser reports.
private final class RecordingSink: TarSink {
    var entries: [(entry: TarEntry, content: [UInt8])] = []
    var open = false

    func beginEntry(_ entry: TarEntry) throws {
        #expect(!open, "an entry began before the previous one ended")
        entries.append((entry, []))
        open = true
    }

    func entryData(_ bytes: UnsafeRawBufferPointer) throws {
        entries[entries.count - 1].content += Array(bytes)
    }

    func endEntry() throws {
        open = false
    }
}

private func parse(_ bytes: [UInt8], chunkSize: Int = 512, maxSize: Int64 = 1 << 30) throws -> RecordingSink {
    let sink = RecordingSink()
    let parser = TarParser(sink: sink, maxEntrySize: maxSize)
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunkSize)
        try bytes[offset..<end].withUnsafeBytes { try parser.feed($0) }
        offset = end
    }
    try parser.finish()
    return sink
}

private func names(_ sink: RecordingSink) -> [String] {
    sink.entries.map { $0.entry.name }
}

@Suite("tar reader")
struct TarParserTests {
    @Test("plain ustar entries of every kind, whatever the chunk size")
    func kinds() throws {
        var tar = TarWriter()
        tar.directory("bin/", mode: 0o755)
        tar.file("bin/tool", String(repeating: "x", count: 1000), mode: 0o4755, uid: 1000, gid: 100, mtime: 1_234_567)
        tar.symlink("bin/sh", to: "tool")
        tar.hardlink("bin/ln", to: "bin/tool")
        tar.fifo("run/pipe")
        tar.device("dev/null", major: 1, minor: 3)
        tar.end()
        for chunkSize in [1, 7, 511, 512, 513, 100_000] {
            let sink = try parse(tar.bytes, chunkSize: chunkSize)
            #expect(names(sink) == ["bin/", "bin/tool", "bin/sh", "bin/ln", "run/pipe", "dev/null"])
            let tool = sink.entries[1]
            #expect(tool.entry.kind == .file)
            #expect(tool.entry.mode == 0o4755)
            #expect(tool.entry.uid == 1000 && tool.entry.gid == 100)
            #expect(tool.entry.mtime == TarEntry.Time(seconds: 1_234_567, nanoseconds: 0))
            #expect(tool.content == Array(String(repeating: "x", count: 1000).utf8))
            #expect(sink.entries[0].entry.kind == .directory)
            #expect(sink.entries[2].entry.kind == .symlink && sink.entries[2].entry.linkTarget == Array("tool".utf8))
            #expect(sink.entries[3].entry.kind == .hardlink)
            #expect(sink.entries[4].entry.kind == .fifo)
            #expect(sink.entries[5].entry.kind == .charDevice && sink.entries[5].entry.deviceMinor == 3)
        }
    }

    @Test("GNU long names and long link targets")
    func gnuLongNames() throws {
        let longName = String(repeating: "d/", count: 80) + "file"
        let longTarget = String(repeating: "t", count: 150)
        var tar = TarWriter()
        tar.gnuLong(longName)
        tar.file("truncated-name", "content")
        tar.gnuLong(longTarget, link: true)
        tar.symlink("link", to: "short")
        tar.end()
        let sink = try parse(tar.bytes)
        #expect(names(sink) == [longName, "link"])
        #expect(sink.entries[0].content == Array("content".utf8))
        #expect(sink.entries[1].entry.linkTarget == Array(longTarget.utf8))
    }

    @Test("PAX records: path, linkpath, size, uid, gid, mtime, xattrs; global records apply to later entries")
    func paxRecords() throws {
        var tar = TarWriter()
        tar.pax([("uid", "4242"), ("mtime", "1600000000.5")], global: true)
        tar.pax([("path", "a/very/long/pax/path"), ("gid", "3000000000"), ("mtime", "1700000000.123456789"),
                 ("SCHILY.xattr.user.note", "hello")])
        tar.file("ignored", "abc")
        tar.file("second", "x")
        tar.pax([("linkpath", "pax-target"), ("uid", "")])
        tar.symlink("third", to: "ignored")
        tar.end()
        let sink = try parse(tar.bytes)
        #expect(names(sink) == ["a/very/long/pax/path", "second", "third"])
        let first = sink.entries[0].entry
        #expect(first.uid == 4242 && first.gid == 3_000_000_000)
        #expect(first.mtime == TarEntry.Time(seconds: 1_700_000_000, nanoseconds: 123_456_789))
        #expect(first.xattrs.count == 1 && first.xattrs[0].name == "user.note" && first.xattrs[0].value == Array("hello".utf8))
        #expect(sink.entries[1].entry.uid == 4242)
        #expect(sink.entries[1].entry.mtime == TarEntry.Time(seconds: 1_600_000_000, nanoseconds: 500_000_000))
        // An empty local value unsets the global one for that entry.
        #expect(sink.entries[2].entry.uid == 0)
        #expect(sink.entries[2].entry.linkTarget == Array("pax-target".utf8))
    }

    @Test("a PAX size overrides the header's, as for files over 8 GiB")
    func paxSize() throws {
        var tar = TarWriter()
        tar.pax([("size", "5")])
        var header = TarWriter.Header("big")
        header.size = 0
        tar.header(header)
        tar.data(Array("12345".utf8))
        tar.end()
        let sink = try parse(tar.bytes)
        #expect(sink.entries[0].content == Array("12345".utf8))
    }

    @Test("ustar prefix field and GNU base-256 numbers")
    func prefixAndBase256() throws {
        var tar = TarWriter()
        var header = TarWriter.Header("name.txt")
        header.prefix = Array("some/prefix".utf8)
        header.size = 3
        header.base256Size = true
        tar.header(header)
        tar.data(Array("abc".utf8))
        tar.end()
        let sink = try parse(tar.bytes)
        #expect(names(sink) == ["some/prefix/name.txt"])
        #expect(sink.entries[0].content == Array("abc".utf8))
    }

    @Test("data after the end-of-archive marker is ignored; one zero block at the end is accepted")
    func endOfArchive() throws {
        var tar = TarWriter()
        tar.file("a", "1")
        tar.end()
        tar.append(raw: [UInt8](repeating: 0, count: 9216))
        #expect(try names(parse(tar.bytes)) == ["a"])
        var short = TarWriter()
        short.file("a", "1")
        short.append(raw: [UInt8](repeating: 0, count: 512))
        #expect(try names(parse(short.bytes)) == ["a"])
    }

    @Test("corrupt and truncated archives are refused with the entry named")
    func corrupt() throws {
        var bad = TarWriter()
        var header = TarWriter.Header("broken-entry")
        header.corruptChecksum = true
        bad.header(header)
        bad.end()
        #expect(throws: ImagesError.badEntry("broken-entry", "header checksum mismatch (corrupt archive?)")) {
            try parse(bad.bytes)
        }

        var full = TarWriter()
        full.file("cut-here", String(repeating: "y", count: 2000))
        full.end()
        let error = #expect(throws: ImagesError.self) { try parse(Array(full.bytes.prefix(1000))) }
        #expect(error?.message.contains("cut-here") == true)
        #expect(error?.message.contains("truncated") == true)

        let inHeader = #expect(throws: ImagesError.self) { try parse(Array(full.bytes.prefix(300))) }
        #expect(inHeader?.message.contains("truncated") == true)

        let noEnd = #expect(throws: ImagesError.self) { try parse(Array(full.bytes.prefix(512 + 2048))) }
        #expect(noEnd?.message.contains("end-of-archive") == true)

        #expect(throws: ImagesError.invalid("the archive is empty")) { try parse([]) }
    }

    @Test("entry sizes and extended headers are bounded")
    func bounds() throws {
        var tar = TarWriter()
        tar.file("too-big", [UInt8](repeating: 1, count: 2048))
        tar.end()
        let error = #expect(throws: ImagesError.self) { try parse(tar.bytes, maxSize: 1024) }
        #expect(error?.message.contains("too-big") == true)
        #expect(error?.status == 400)

        var pax = TarWriter()
        var header = TarWriter.Header("huge-pax", typeflag: "x")
        header.size = 2 << 20
        pax.header(header)
        let paxError = #expect(throws: ImagesError.self) { try parse(pax.bytes) }
        #expect(paxError?.message.contains("huge-pax") == true)
    }

    @Test("unsupported entry types are named")
    func unsupportedTypes() throws {
        var tar = TarWriter()
        tar.header(TarWriter.Header("sparse-file", typeflag: "S"))
        tar.end()
        let error = #expect(throws: ImagesError.self) { try parse(tar.bytes) }
        #expect(error?.message.contains("sparse-file") == true)
    }
}
