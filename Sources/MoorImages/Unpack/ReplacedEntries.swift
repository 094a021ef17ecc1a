import Glibc

/// Keeps what a later entry of the same layer replaces, when the layer's
/// tar-split is recorded: the replaced file's content is still part of the
/// original stream, so it is moved to `split-data/<n>` in the layer
/// directory (outside diff/, never seen by containers) instead of deleted,
/// and the move is recorded for the reader.
final class ReplacedEntries {
    private let layerFD: Int32
    private let recorder: TarSplitRecorder
    private var dataFD: Int32 = -1
    private var count = 0

    /// `layerFD` is the layer directory (diff/'s parent); borrowed.
    init(layerFD: Int32, recorder: TarSplitRecorder) {
        self.layerFD = layerFD
        self.recorder = recorder
    }

    deinit { closeFD(dataFD) }

    /// Moves `name` in `parent` (at `path` below diff/) out of the way.
    func move(_ parent: Int32, _ name: [CChar], path: [[UInt8]], entry: String) throws {
        let directory = try dataDirectory(entry: entry)
        count += 1
        let target = String(count)
        try sysEntry("renameat", entry) { renameat(parent, name, directory, target) }
        let from = Array("diff/".utf8) + Array(path.joined(separator: [UInt8(ascii: "/")]))
        recorder.moved(from: from, to: Array("\(TarSplitFormat.dataDirectory)/\(target)".utf8))
    }

    private func dataDirectory(entry: String) throws -> Int32 {
        if dataFD >= 0 { return dataFD }
        let name = TarSplitFormat.dataDirectory
        let code = sysErrno { mkdirat(layerFD, name, 0o700) }
        if code != 0 && code != EEXIST { throw ImagesError.failure("mkdirat", name, errno: code) }
        dataFD = try sysEntry("openat", entry) { openat(layerFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        return dataFD
    }
}
