import Glibc

/// Reads a tar-split record back, record by record.
final class TarSplitReader {
    enum Record {
        case raw([UInt8])
        case file(path: [UInt8], size: Int64)
    }

    private static let readSize = 16 * 1024
    private let fd: Int32
    private let path: String
    private let inflater: GzipInflater
    private var pending = [UInt8]()
    private var offset = 0
    private var inputEnded = false
    private var sawMagic = false
    private var ended = false

    init(directory: String) throws {
        let path = directory + "/" + TarSplitFormat.fileName
        let fd = try sys("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        self.path = path
        self.fd = fd
        do {
            inflater = try GzipInflater()
        } catch {
            closeFD(fd)
            throw error
        }
    }

    deinit { closeFD(fd) }

    /// The next record; nil after the end record.
    func next() throws -> Record? {
        if ended { return nil }
        if !sawMagic {
            try need(TarSplitFormat.magic.count)
            guard pending[offset..<(offset + TarSplitFormat.magic.count)].elementsEqual(TarSplitFormat.magic) else {
                throw corrupt("bad magic")
            }
            offset += TarSplitFormat.magic.count
            sawMagic = true
        }
        try need(1)
        let tag = pending[offset]
        offset += 1
        switch tag {
        case TarSplitFormat.rawTag:
            try need(4)
            let length = Int(TarSplitFormat.integer(pending[offset..<(offset + 4)]))
            offset += 4
            guard length <= TarSplitFormat.maxRecordSize else { throw corrupt("record of \(length) bytes") }
            try need(length)
            defer { offset += length }
            return .raw(Array(pending[offset..<(offset + length)]))
        case TarSplitFormat.fileTag:
            try need(12)
            let size = Int64(bitPattern: TarSplitFormat.integer(pending[offset..<(offset + 8)]))
            let length = Int(TarSplitFormat.integer(pending[(offset + 8)..<(offset + 12)]))
            offset += 12
            guard size > 0, length <= 8192 else { throw corrupt("bad file record") }
            try need(length)
            defer { offset += length }
            return .file(path: Array(pending[offset..<(offset + length)]), size: size)
        case TarSplitFormat.endTag:
            ended = true
            return nil
        default:
            throw corrupt("unknown record type \(tag)")
        }
    }

    /// Makes `count` bytes available from `offset`.
    private func need(_ count: Int) throws {
        if offset > 1 << 20 {
            pending.removeFirst(offset)
            offset = 0
        }
        if pending.count - offset >= count { return }
        var chunk = [UInt8](repeating: 0, count: Self.readSize)
        while pending.count - offset < count {
            guard !inputEnded else { throw corrupt("truncated") }
            let read = try chunk.withUnsafeMutableBytes { buffer in
                try sys("read", path) { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            if read == 0 {
                inputEnded = true
                try inflater.finish { pending.append(contentsOf: $0) }
                continue
            }
            try chunk[0..<read].withUnsafeBytes { input in
                try inflater.decompress(input) { pending.append(contentsOf: $0) }
            }
        }
    }

    private func corrupt(_ what: String) -> ImagesError {
        .system("\(path): corrupt tar-split record (\(what))", errno: 0)
    }
}
