#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension LogFileSet {
    /// Compresses every rotated generation of the set still plain: after a
    /// rotation that is `BASE.1`; more when one write rotated several times
    /// or an earlier compression failed. Surplus generations are left to
    /// `removeSurplus`.
    ///
    /// Crash safety: the `.gz` is written under a temporary name, synced,
    /// renamed and the directory synced before the plain file is removed,
    /// so at every instant one whole copy of the entries is on disk under
    /// the generation's number (see `LogFileSet`).
    func compressRotated() throws {
        for generation in try rotated() where generation.index < maxFiles && generation.plain {
            if !generation.compressed { try compress(generation.index) }
            try PosixFile.remove(path(generation.index))
        }
    }

    private func compress(_ index: Int) throws {
        guard let source = try PosixFile.openIfPresent(path(index)) else { return }
        let temporary = temporaryPath(index)
        do {
            let target = try PosixFile.open(temporary, O_WRONLY | O_CREAT | O_TRUNC)
            try GzipCompressor.compress(source, into: target)
            try target.sync()
            target.close()
            try PosixFile.rename(temporary, to: compressedPath(index))
        } catch {
            try? PosixFile.remove(temporary)
            throw error
        }
        try PosixFile.syncDirectory(directory)
    }
}
