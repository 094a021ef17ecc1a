/// A streaming tar reader: bytes are pushed in chunks of any size and
/// entries come out through a `TarSink`, so an archive of any length is read
/// with one 512-byte header buffer plus at most one metadata record (long
/// name or PAX header, bounded to 1 MiB) in memory.
///
/// Reads POSIX ustar, GNU (long names 'L', long links 'K', base-256
/// numbers) and PAX ('x' per entry, 'g' global: path, linkpath, size, uid,
/// gid, mtime, atime, SCHILY.xattr.*). Whatever follows the end-of-archive
/// marker (record padding) is ignored.
final class TarParser<Sink: TarSink> {
    /// Long names and PAX headers are small; anything larger is hostile.
    static var maxMetadataSize: Int64 { 1 << 20 }

    private enum State {
        case header
        case metadata(typeflag: UInt8, remaining: Int64, padding: Int)
        case data(remaining: Int64, padding: Int)
        case padding(remaining: Int)
        /// One zero block seen: the next must be zero too.
        case zeroBlock
        case end
    }

    private let sink: Sink
    private let maxEntrySize: Int64
    /// Sees every byte of the stream, told apart as headers (and padding)
    /// or entry content, to rebuild the exact stream later (`docker save`).
    var recorder: TarSplitRecorder?
    private var state = State.header
    private var block = [UInt8](repeating: 0, count: TarHeader.blockSize)
    private var blockFill = 0
    private var metadata = [UInt8]()
    private var metadataName = ""
    private var pending = PendingRecords()
    private var globalPax = PaxRecords()
    private var currentName = ""
    private var sawBytes = false

    /// Records read ahead of the entry they apply to.
    private struct PendingRecords {
        var longName: [UInt8]?
        var longLink: [UInt8]?
        var pax: PaxRecords?
        var isEmpty: Bool { longName == nil && longLink == nil && pax == nil }
    }

    init(sink: Sink, maxEntrySize: Int64) {
        self.sink = sink
        self.maxEntrySize = maxEntrySize
    }

    /// Consumes the next piece of the (uncompressed) archive.
    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        if !bytes.isEmpty { sawBytes = true }
        var input = bytes[...]
        while !input.isEmpty {
            let used = try step(UnsafeRawBufferPointer(rebasing: input))
            input = input.dropFirst(used)
        }
    }

    /// The entry being read, when the stream stops inside one: a failure
    /// of the stream under the archive (a truncated gzip) names it.
    var openEntry: String? {
        switch state {
        case .data, .padding: currentName
        case .metadata: metadataName
        default: nil
        }
    }

    /// Checks the archive ended where an archive may end.
    func finish() throws {
        switch state {
        case .end, .zeroBlock:
            // One zero block then the end of input is accepted, as Go's
            // archive/tar (Docker's reader) accepts it.
            return
        case .header where blockFill == 0:
            if !sawBytes { throw ImagesError.invalid("the archive is empty") }
            throw ImagesError.invalid("the archive ends without its end-of-archive marker (truncated?)")
        case .header:
            throw ImagesError.invalid("the archive is truncated inside a header block")
        case .metadata:
            throw ImagesError.badEntry(metadataName, "the archive is truncated inside this extended header")
        case let .data(remaining, _):
            throw ImagesError.badEntry(currentName, "the archive is truncated: \(remaining) bytes of content are missing")
        case .padding:
            throw ImagesError.badEntry(currentName, "the archive is truncated after this entry")
        }
    }

    /// Handles as much of `input` as the current state takes; returns how
    /// many bytes were used.
    private func step(_ input: UnsafeRawBufferPointer) throws -> Int {
        switch state {
        case .header, .zeroBlock:
            return try fillBlock(input)
        case let .metadata(typeflag, remaining, padding):
            let count = Int(min(remaining, Int64(input.count)))
            try recorder?.raw(UnsafeRawBufferPointer(rebasing: input[0..<count]))
            metadata.append(contentsOf: input[0..<count])
            if remaining == Int64(count) {
                try metadataComplete(typeflag)
                state = padding > 0 ? .padding(remaining: padding) : .header
            } else {
                state = .metadata(typeflag: typeflag, remaining: remaining - Int64(count), padding: padding)
            }
            return count
        case let .data(remaining, padding):
            return try passData(input, remaining: remaining, padding: padding)
        case let .padding(remaining):
            let count = min(remaining, input.count)
            try recorder?.raw(UnsafeRawBufferPointer(rebasing: input[0..<count]))
            state = remaining == count ? .header : .padding(remaining: remaining - count)
            return count
        case .end:
            // Record padding after the end marker is part of the stream
            // (and of its digest): a rebuilt stream must have it too.
            try recorder?.raw(input)
            return input.count
        }
    }

    /// Collects a header block, which may arrive split over chunks.
    private func fillBlock(_ input: UnsafeRawBufferPointer) throws -> Int {
        let fill = blockFill
        let count = min(TarHeader.blockSize - fill, input.count)
        try recorder?.raw(UnsafeRawBufferPointer(rebasing: input[0..<count]))
        block.withUnsafeMutableBytes { target in
            UnsafeMutableRawBufferPointer(rebasing: target[fill..<(fill + count)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: input[0..<count]))
        }
        blockFill += count
        if blockFill == TarHeader.blockSize {
            blockFill = 0
            try blockComplete()
        }
        return count
    }

    /// Hands entry content to the sink straight from the input buffer.
    private func passData(_ input: UnsafeRawBufferPointer, remaining: Int64, padding: Int) throws -> Int {
        let count = Int(min(remaining, Int64(input.count)))
        try recorder?.content(UnsafeRawBufferPointer(rebasing: input[0..<count]))
        try sink.entryData(UnsafeRawBufferPointer(rebasing: input[0..<count]))
        if remaining == Int64(count) {
            try sink.endEntry()
            state = padding > 0 ? .padding(remaining: padding) : .header
        } else {
            state = .data(remaining: remaining - Int64(count), padding: padding)
        }
        return count
    }

    private func blockComplete() throws {
        let isZero = block.withUnsafeBytes { TarHeader.isZeroBlock($0) }
        if case .zeroBlock = state {
            guard isZero else {
                throw ImagesError.invalid("malformed end of archive: a zero block followed by a header")
            }
            state = .end
            return
        }
        if isZero {
            guard pending.isEmpty else {
                throw ImagesError.invalid("the archive ends with an extended header that applies to no entry")
            }
            state = .zeroBlock
            return
        }
        let header = try block.withUnsafeBytes { try TarHeader.parse($0) }
        try headerComplete(header)
    }

    private func headerComplete(_ header: TarHeader) throws {
        if Self.isMetadata(header.typeflag) {
            try beginMetadata(header)
            return
        }
        let entry = try TarEntryBuilder.build(
            header, pending: (pending.longName, pending.longLink),
            pax: globalPax.overlaid(by: pending.pax ?? PaxRecords()), maxSize: maxEntrySize)
        pending = PendingRecords()
        currentName = entry.name
        try sink.beginEntry(entry)
        if entry.size > 0 {
            state = .data(remaining: entry.size, padding: Self.padding(entry.size))
        } else {
            try sink.endEntry()
            state = .header
        }
    }

    private static func isMetadata(_ typeflag: UInt8) -> Bool {
        [UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K")].contains(typeflag)
    }

    private func beginMetadata(_ header: TarHeader) throws {
        metadataName = header.displayName
        guard header.size >= 0, header.size <= Self.maxMetadataSize else {
            throw ImagesError.badEntry(metadataName, "an extended header of \(header.size) bytes (more than 1 MiB)")
        }
        metadata.removeAll(keepingCapacity: true)
        if header.size == 0 {
            try metadataComplete(header.typeflag)
            state = .header
        } else {
            state = .metadata(typeflag: header.typeflag, remaining: header.size, padding: Self.padding(header.size))
        }
    }

    private func metadataComplete(_ typeflag: UInt8) throws {
        switch typeflag {
        case UInt8(ascii: "L"):
            pending.longName = Array(metadata.prefix { $0 != 0 })
        case UInt8(ascii: "K"):
            pending.longLink = Array(metadata.prefix { $0 != 0 })
        case UInt8(ascii: "x"):
            // Kept verbatim (empty values too) until laid over the globals.
            let records = try PaxRecords.parse(metadata, entry: metadataName)
            pending.pax = PaxRecords(values: (pending.pax?.values ?? [:]).merging(records.values) { $1 })
        default:
            globalPax.merge(global: try PaxRecords.parse(metadata, entry: metadataName))
        }
    }

    /// Content is padded to whole blocks.
    private static func padding(_ size: Int64) -> Int {
        let remainder = Int(size % Int64(TarHeader.blockSize))
        return remainder == 0 ? 0 : TarHeader.blockSize - remainder
    }
}
