import Glibc

/// Writes a layer's tar-split record (see `TarSplitFormat`) while the layer
/// is unpacked: `TarParser` reports every byte as header bytes (`raw`) or
/// entry content (`content`); the unpacker says which entries' content it
/// stored in a file (`storedFile`) and which paths it moved away.
final class TarSplitRecorder {
    private let fd: Int32
    private let path: String
    private let output: GzipDeflater
    private var pending = [UInt8]()
    /// Content bytes of the current entry that went to a file, still to come.
    private var storedRemaining: Int64 = 0
    private var fileRecords: UInt64 = 0
    private(set) var moves = [TarSplitFormat.Move]()

    /// Creates `directory/tar-split.gz`.
    init(directory: String) throws {
        let path = directory + "/" + TarSplitFormat.fileName
        let fd = try sys("open", path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        self.path = path
        self.fd = fd
        do {
            output = try GzipDeflater(fd: fd, path: path)
        } catch {
            closeFD(fd)
            throw error
        }
        // Fully initialised from here: a failure runs deinit, which closes fd.
        try output.write(TarSplitFormat.magic)
        pending.reserveCapacity(TarSplitFormat.rawFlushSize + 4096)
    }

    deinit { closeFD(fd) }

    /// Stream bytes that are not stored content: kept verbatim.
    func raw(_ bytes: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: bytes)
        if pending.count >= TarSplitFormat.rawFlushSize { try flushRaw() }
    }

    /// Entry content: either in the file announced by `storedFile`, or kept
    /// verbatim (content the unpacker dropped, such as a whiteout's).
    func content(_ bytes: UnsafeRawBufferPointer) throws {
        if storedRemaining > 0 {
            storedRemaining -= Int64(bytes.count)
            return
        }
        try raw(bytes)
    }

    /// The next `size` content bytes are the file at `path` (relative to the
    /// layer directory).
    func storedFile(path: [UInt8], size: Int64) throws {
        guard size > 0 else { return }
        try flushRaw()
        var record = [TarSplitFormat.fileTag]
        TarSplitFormat.append(UInt64(size), to: &record)
        TarSplitFormat.append(UInt32(path.count), to: &record)
        record += path
        try output.write(record)
        fileRecords += 1
        storedRemaining = size
    }

    /// The unpacker moved `from` (a path an earlier entry wrote) to `to`.
    func moved(from: [UInt8], to: [UInt8]) {
        moves.append(TarSplitFormat.Move(beforeRecord: fileRecords, from: from, to: to))
    }

    /// Ends the record; writes the moves file when there were moves.
    func finish(directory: String) throws {
        try flushRaw()
        try output.write([TarSplitFormat.endTag])
        try output.finish()
        try sys("fsync", path) { fsync(fd) }
        guard !moves.isEmpty else { return }
        let movesPath = directory + "/" + TarSplitFormat.movesFileName
        let movesFD = try sys("open", movesPath) { open(movesPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        defer { closeFD(movesFD) }
        try TarSplitFormat.encode(moves).withUnsafeBytes { try FileIO.writeAll(movesFD, $0, movesPath) }
        try sys("fsync", movesPath) { fsync(movesFD) }
    }

    private func flushRaw() throws {
        guard !pending.isEmpty else { return }
        var header = [TarSplitFormat.rawTag]
        TarSplitFormat.append(UInt32(pending.count), to: &header)
        try output.write(header)
        try output.write(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
