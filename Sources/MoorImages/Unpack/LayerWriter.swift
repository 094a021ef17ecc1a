import CLinuxFS
import Glibc
import Logging

/// One layer being received into a fresh directory under the store's tmp/:
/// `diff/` (the files), `tar-split.gz` (to give the exact stream back) and
/// `layer.json`, made in one pass over the stream. Fed synchronously, chunk
/// by chunk; when anything fails the caller removes the directory.
final class LayerWriter {
    let directory: String
    private let layerFD: Int32
    private let rootFD: Int32
    private let recorder: TarSplitRecorder
    private let unpacker: LayerUnpacker
    private let pipeline: ImportPipeline
    private let syncLayers: Bool
    private let logger: Logger

    /// Creates `directory` (which must not exist) and its diff/.
    init(directory: String, options: ImageStore.Options, maxBytes: Int64? = nil,
         whiteouts: WhiteoutFormat, logger: Logger) throws {
        self.directory = directory
        self.logger = logger
        syncLayers = options.syncLayers
        (layerFD, rootFD) = try Self.makeDirectories(directory)
        do {
            recorder = try TarSplitRecorder(directory: directory)
        } catch {
            closeFD(layerFD)
            closeFD(rootFD)
            throw error
        }
        unpacker = LayerUnpacker(rootFD: rootFD, layerFD: layerFD, recorder: recorder, logger: logger, whiteouts: whiteouts)
        pipeline = ImportPipeline(unpacker: unpacker, maxBytes: maxBytes ?? options.maxImportBytes, recorder: recorder)
    }

    deinit {
        closeFD(layerFD)
        closeFD(rootFD)
    }

    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        try pipeline.feed(bytes)
    }

    /// Checks the stream was complete, writes the records and returns the
    /// layer, on disk (syncfs) when the store asks for it.
    func finish() throws -> UnpackedLayer {
        let diffID = try pipeline.finish()
        let skipped = try unpacker.finish()
        if skipped > 0 {
            logger.info("unpack: extended attributes the store refused were skipped", metadata: ["count": "\(skipped)"])
        }
        try recorder.finish(directory: directory)
        let metadata = LayerMetadata(diffID: diffID, size: unpacker.contentBytes,
                                     tarSize: pipeline.tarBytes, created: Timestamp.now())
        try writeMetadata(metadata)
        if syncLayers { try sys("syncfs", directory) { syncfs(rootFD) } }
        return UnpackedLayer(directory: directory, metadata: metadata)
    }

    private static func makeDirectories(_ directory: String) throws -> (Int32, Int32) {
        try sys("mkdir", directory) { mkdir(directory, 0o700) }
        let layerFD = try sys("open", directory) { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        let diff = directory + "/diff"
        do {
            try sys("mkdir", diff) { mkdir(diff, 0o755) }
            let rootFD = try sys("open", diff) { open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            // The layer's root is the container's "/": 0755 whatever the umask.
            if fchmod(rootFD, 0o755) != 0 {
                let error = ImagesError.failure("fchmod", diff)
                closeFD(rootFD)
                throw error
            }
            return (layerFD, rootFD)
        } catch {
            closeFD(layerFD)
            throw error
        }
    }

    private func writeMetadata(_ metadata: LayerMetadata) throws {
        let path = directory + "/layer.json"
        let bytes = try JSONCoding.encode(metadata, subject: path)
        let fd = try sys("open", path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        defer { closeFD(fd) }
        try bytes.withUnsafeBytes { try FileIO.writeAll(fd, $0, path) }
        try sys("fsync", path) { fsync(fd) }
    }
}
