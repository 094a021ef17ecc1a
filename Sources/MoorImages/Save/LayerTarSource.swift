import Crypto
import Glibc

/// Gives back a stored layer's original tar stream, byte for byte: the
/// tar-split record's verbatim bytes, with each file's content read from
/// the unpacked layer (see `TarSplitFormat`). The stream is hashed as it
/// goes: if it does not come out as the layer's diffID (a file changed
/// under the store), the save fails rather than hand out a layer whose
/// digest lies.
struct LayerTarSource {
    /// The layer directory (layers/sha256/<hex>).
    let directory: String
    let diffID: String
    let size: Int64

    /// Whether the layer has the record a rebuild needs.
    static func isAvailable(in directory: String) -> Bool {
        FileIO.exists(directory + "/" + TarSplitFormat.fileName)
    }

    func write(to output: ArchiveOutput) async throws {
        let layerFD = try sys("open", directory) { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { closeFD(layerFD) }
        let reader = try TarSplitReader(directory: directory)
        var hasher = SHA256()
        var total: Int64 = 0
        let moves = try loadMoves()
        var fileIndex: UInt64 = 0
        while let record = try reader.next() {
            switch record {
            case let .raw(bytes):
                hasher.update(data: bytes)
                total += Int64(bytes.count)
                try await output.write(bytes)
            case let .file(path, fileSize):
                let resolved = Self.resolve(path, index: fileIndex, moves: moves)
                fileIndex += 1
                try await copyFile(resolved, size: fileSize, layerFD: layerFD, hasher: &hasher, output: output)
                total += fileSize
            }
        }
        let digest = "sha256:" + Hex.string(hasher.finalize())
        guard digest == diffID, total == size else {
            throw ImagesError.system("layer \(diffID): the rebuilt stream (\(total) bytes, \(digest)) does not match "
                + "the layer (\(size) bytes): its files changed in the store", errno: 0)
        }
    }

    private func loadMoves() throws -> [TarSplitFormat.Move] {
        let path = directory + "/" + TarSplitFormat.movesFileName
        guard FileIO.exists(path) else { return [] }
        return try TarSplitFormat.decodeMoves(try FileIO.read(path), subject: path)
    }

    /// Where file record `index` is now: moved if a later entry replaced it
    /// (or a directory above it) after the record was written.
    static func resolve(_ path: [UInt8], index: UInt64, moves: [TarSplitFormat.Move]) -> [UInt8] {
        for move in moves where move.beforeRecord > index {
            if path == move.from { return move.to }
            if path.starts(with: move.from + [UInt8(ascii: "/")]) { return move.to + path.dropFirst(move.from.count) }
        }
        return path
    }

    /// Streams `size` bytes of the file at `path` (below the layer
    /// directory, never through a symbolic link).
    private func copyFile(_ path: [UInt8], size: Int64, layerFD: Int32, hasher: inout SHA256,
                          output: ArchiveOutput) async throws {
        let shown = displayPath(path)
        let components = try EntryPath.components(path, entry: shown)
        guard let leaf = components.last else { throw ImagesError.system("layer \(diffID): empty file path", errno: 0) }
        let parent = try DirectoryWalker(rootFD: layerFD).open(components.dropLast(), create: false, entry: shown)
        defer { closeFD(parent) }
        let fd = try sys("openat", "\(directory)/\(shown)") {
            openat(parent, cPath(leaf), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        }
        defer { closeFD(fd) }
        var info = stat()
        try sys("fstat", "\(directory)/\(shown)") { fstat(fd, &info) }
        guard (info.st_mode & S_IFMT) == S_IFREG, Int64(info.st_size) == size else {
            throw ImagesError.system("layer \(diffID): \(shown) is no longer the \(size)-byte file it was unpacked as",
                                     errno: 0)
        }
        // Sized to the file: most layer files are far smaller than a chunk.
        var chunk = [UInt8](repeating: 0, count: Int(min(Int64(ArchiveOutput.chunkSize), size)))
        var remaining = size
        while remaining > 0 {
            let want = Int(min(Int64(chunk.count), remaining))
            let count = try chunk.withUnsafeMutableBytes { buffer in
                try sys("read", "\(directory)/\(shown)") { read(fd, buffer.baseAddress, want) }
            }
            guard count > 0 else {
                throw ImagesError.system("layer \(diffID): \(shown) is shorter than recorded", errno: 0)
            }
            hasher.update(data: chunk[0..<count])
            try await output.write(chunk[0..<count])
            remaining -= Int64(count)
        }
    }
}
