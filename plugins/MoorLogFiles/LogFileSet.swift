/// The files of one rotated log, named as dockerd names them: the current
/// file `BASE`, then `BASE.1` (the newest rotated) up to `BASE.(maxFiles-1)`,
/// each rotated one either plain or gzip-compressed as `BASE.N.gz`.
///
/// Rotation renames oldest first, so a crash between two renames leaves a
/// gap in the numbers but never two files with one name; readers list what
/// is there. The file pushed out of the set is removed only after the new
/// current file is durable (`removeSurplus`), so with `maxFiles` 1 the last
/// entries stay on disk until their successors are.
///
/// Compression (`compressRotated`) writes `BASE.N.gz.tmp`, syncs it, renames
/// it to `BASE.N.gz` and only then removes `BASE.N`. So a `.tmp` is never
/// part of the log, a `.gz` is always whole, and when a crash leaves both
/// `BASE.N` and `BASE.N.gz` they hold the same entries: every reader takes
/// the plain one (nothing to inflate), and tidying removes it.
public struct LogFileSet: Sendable {
    /// Where the files are; created when the first one is.
    public let directory: String
    /// The current file's name within `directory`.
    public let name: String
    /// Docker's `max-file`: how many files the set keeps, the current one included.
    public let maxFiles: Int

    /// Names the set; nothing is read or created until a writer or reader uses it.
    public init(directory: String, name: String, maxFiles: Int) {
        self.directory = directory
        self.name = name
        self.maxFiles = maxFiles
    }

    var current: String { "\(directory)/\(name)" }

    /// The plain file of generation `index` (0: the current file).
    func path(_ index: Int) -> String {
        index == 0 ? current : "\(current).\(index)"
    }

    func compressedPath(_ index: Int) -> String { "\(path(index)).gz" }

    /// Where generation `index` is compressed before its `.gz` exists.
    func temporaryPath(_ index: Int) -> String { "\(compressedPath(index)).tmp" }

    /// One rotated generation and which of its two files exist.
    struct Generation: Equatable {
        let index: Int
        var plain = false
        var compressed = false
    }

    /// What a file of the directory is to this set, if anything.
    enum Member: Equatable {
        case plain(Int)
        case compressed(Int)
        case temporary(Int)
    }

    /// `BASE.N`, `BASE.N.gz` or `BASE.N.gz.tmp`, N written as `path` writes
    /// it (so `BASE.01` or `BASE.+1`, which `path` never names, are not members).
    func member(_ entry: String) -> Member? {
        guard entry.hasPrefix(name + ".") else { return nil }
        let rest = entry.dropFirst(name.count + 1)
        let digits = rest.prefix { ("0"..."9").contains($0) }
        guard let index = Int(digits), index > 0, String(index) == digits else { return nil }
        switch rest.dropFirst(digits.count) {
        case "": return .plain(index)
        case ".gz": return .compressed(index)
        case ".gz.tmp": return .temporary(index)
        default: return nil
        }
    }

    /// The rotated generations present, ascending (newest first).
    func rotated() throws -> [Generation] {
        var found: [Int: Generation] = [:]
        for entry in try PosixFile.list(directory) {
            switch member(entry) {
            case let .plain(index)?: found[index, default: Generation(index: index)].plain = true
            case let .compressed(index)?: found[index, default: Generation(index: index)].compressed = true
            case .temporary?, nil: continue
            }
        }
        return found.values.sorted { $0.index < $1.index }
    }

    func rotatedIndices() throws -> [Int] {
        try rotated().map(\.index)
    }

    /// Shifts generation `k` to `k+1` and `BASE` to `BASE.1`. The caller has
    /// synced the current file and creates the next one.
    func rotate() throws {
        for generation in try rotated().reversed() where generation.index < maxFiles {
            try shift(generation)
        }
        // With one file, `BASE.1` is surplus and replaced whole, `.gz` included.
        if maxFiles <= 1 { try PosixFile.remove(compressedPath(1)) }
        try PosixFile.rename(current, to: path(1))
    }

    /// Moves one generation up. Its successor has moved already unless it
    /// is surplus, which is replaced (as a rename replaces a file). When a
    /// generation has both files, only the `.gz` moves: they hold the same
    /// entries, and a crash between two renames must not leave them under
    /// two numbers, where a reader would read them twice.
    private func shift(_ generation: Generation) throws {
        let next = generation.index + 1
        if next >= maxFiles { try removeGeneration(next) }
        if generation.compressed {
            if generation.plain { try PosixFile.remove(path(generation.index)) }
            try PosixFile.rename(compressedPath(generation.index), to: compressedPath(next))
        } else {
            try PosixFile.rename(path(generation.index), to: path(next))
        }
    }

    /// Removes the files numbered `maxFiles` and above.
    func removeSurplus() throws {
        for generation in try rotated() where generation.index >= maxFiles {
            try removeGeneration(generation.index)
        }
    }

    private func removeGeneration(_ index: Int) throws {
        try PosixFile.remove(path(index))
        try PosixFile.remove(compressedPath(index))
    }

    /// Clears what a crash in the middle of a compression left: `.tmp`
    /// files, and plain files whose `.gz` was complete already.
    func tidy() throws {
        for entry in try PosixFile.list(directory) {
            if case let .temporary(index)? = member(entry) { try PosixFile.remove(temporaryPath(index)) }
        }
        for generation in try rotated() where generation.plain && generation.compressed {
            try PosixFile.remove(path(generation.index))
        }
    }

    /// Opens generation `index` for reading: its plain file when there is
    /// one, else its `.gz`; nil when neither is there any more. Trying the
    /// plain file first also covers a compression finishing meanwhile: its
    /// `.gz` exists before the plain file goes.
    func openRotated(_ index: Int) throws -> RotatedFile? {
        if let plain = try PosixFile.openIfPresent(path(index)) { return .plain(plain) }
        return try PosixFile.openIfPresent(compressedPath(index)).map { .compressed(GzipFileInput($0)) }
    }
}

/// A rotated file opened for reading.
enum RotatedFile {
    /// Readable at any offset, backwards too.
    case plain(PosixFile)
    /// Read forwards only, to stay cheap.
    case compressed(GzipFileInput)

    var input: any LogFileInput {
        switch self {
        case let .plain(file): file
        case let .compressed(file): file
        }
    }
}
