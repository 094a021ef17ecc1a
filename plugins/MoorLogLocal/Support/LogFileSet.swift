// Shared log-file support: this file is kept identical in MoorLogJSONFile
// and MoorLogLocal until a shared target exists (each plugin module may
// depend on MoorPluginKit only).

/// The files of one rotated log, named as dockerd names them: the current
/// file `BASE`, then `BASE.1` (the newest rotated) up to `BASE.(maxFiles-1)`.
///
/// Rotation renames oldest first, so a crash between two renames leaves a
/// gap in the numbers but never two files with one name; readers list what
/// is there. The file pushed out of the set is removed only after the new
/// current file is durable (`removeSurplus`), so with `maxFiles` 1 the last
/// entries stay on disk until their successors are.
struct LogFileSet: Sendable {
    let directory: String
    /// The current file's name within `directory`.
    let name: String
    let maxFiles: Int

    var current: String { "\(directory)/\(name)" }

    func path(_ index: Int) -> String {
        index == 0 ? current : "\(current).\(index)"
    }

    /// The numbers of the rotated files present, ascending (newest first).
    func rotatedIndices() throws -> [Int] {
        let prefix = name + "."
        return try PosixFile.list(directory).compactMap { entry -> Int? in
            guard entry.hasPrefix(prefix), let index = Int(entry.dropFirst(prefix.count)), index > 0 else {
                return nil
            }
            return index
        }.sorted()
    }

    /// Every file of the log, oldest first: what a reader goes through.
    func pathsOldestFirst() throws -> [String] {
        try rotatedIndices().reversed().map(path) + [current]
    }

    /// Shifts `BASE.k` to `BASE.(k+1)` and `BASE` to `BASE.1`. The caller has
    /// synced the current file and creates the next one.
    func rotate() throws {
        for index in try rotatedIndices().reversed() where index < maxFiles {
            try PosixFile.rename(path(index), to: path(index + 1))
        }
        try PosixFile.rename(current, to: path(1))
    }

    /// Removes the files numbered `maxFiles` and above.
    func removeSurplus() throws {
        for index in try rotatedIndices() where index >= maxFiles {
            try PosixFile.remove(path(index))
        }
    }
}

/// Keeps the last `limit` elements appended (all of them when `limit` is
/// nil or negative, as dockerd reads `--tail -1`), for `docker logs --tail N`
/// without holding the whole log.
struct TailBuffer<Element> {
    private let limit: Int?
    private var storage: [Element] = []
    private var start = 0

    init(limit: Int?) {
        self.limit = limit.flatMap { $0 < 0 ? nil : $0 }
    }

    mutating func append(_ element: Element) {
        guard let limit else { return storage.append(element) }
        if storage.count < limit {
            storage.append(element)
        } else if limit > 0 {
            storage[start] = element
            start = (start + 1) % limit
        }
    }

    var elements: [Element] {
        Array(storage[start...] + storage[..<start])
    }
}
