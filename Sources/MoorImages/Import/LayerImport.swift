import CLinuxFS
import Glibc
import Logging

/// A layer unpacked into tmp/, not yet in the store.
struct UnpackedLayer: Sendable {
    var directory: String
    var metadata: LayerMetadata
}

/// Receives an archive stream into a fresh directory under the store's
/// tmp/: unpacked, hashed and described (layer.json) in one pass. On any
/// failure, cancellation included, the directory is removed before the
/// error is rethrown, so nothing is left behind.
struct LayerImport {
    let layout: StoreLayout
    let options: ImageStore.Options
    let logger: Logger

    func unpack<Body: AsyncSequence>(_ body: Body) async throws -> UnpackedLayer
    where Body.Element: Sequence, Body.Element.Element == UInt8 {
        let directory = layout.tmp + "/import-" + FileIO.randomSuffix()
        try sys("mkdir", directory) { mkdir(directory, 0o700) }
        do {
            return try await unpack(body, into: directory)
        } catch {
            do {
                try RemoveTree.remove(path: directory)
            } catch let cleanup {
                logger.error("import: cannot remove the failed import", metadata: ["error": "\(cleanup)"])
            }
            throw error
        }
    }

    private func unpack<Body: AsyncSequence>(_ body: Body, into directory: String) async throws -> UnpackedLayer
    where Body.Element: Sequence, Body.Element.Element == UInt8 {
        let diff = directory + "/diff"
        try sys("mkdir", diff) { mkdir(diff, 0o755) }
        let fd = try sys("open", diff) { open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { closeFD(fd) }
        // The layer's root is the container's "/": 0755 whatever the umask.
        try sys("fchmod", diff) { fchmod(fd, 0o755) }
        let unpacker = LayerUnpacker(rootFD: fd, logger: logger)
        let pipeline = ImportPipeline(unpacker: unpacker, maxBytes: options.maxImportBytes)
        for try await chunk in body {
            try Task.checkCancellation()
            let fed: Void? = try chunk.withContiguousStorageIfAvailable { try pipeline.feed(UnsafeRawBufferPointer($0)) }
            if fed == nil { try Array(chunk).withUnsafeBytes { try pipeline.feed($0) } }
        }
        let diffID = try pipeline.finish()
        let skipped = try unpacker.finish()
        if skipped > 0 {
            logger.info("import: extended attributes the store refused were skipped", metadata: ["count": "\(skipped)"])
        }
        let metadata = LayerMetadata(diffID: diffID, size: unpacker.contentBytes,
                                     tarSize: pipeline.tarBytes, created: Timestamp.now())
        try writeMetadata(metadata, in: directory)
        if options.syncLayers { try sys("syncfs", diff) { syncfs(fd) } }
        return UnpackedLayer(directory: directory, metadata: metadata)
    }

    private func writeMetadata(_ metadata: LayerMetadata, in directory: String) throws {
        let path = directory + "/layer.json"
        let bytes = try JSONCoding.encode(metadata, subject: path)
        let fd = try sys("open", path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        defer { closeFD(fd) }
        try bytes.withUnsafeBytes { try FileIO.writeAll(fd, $0, path) }
        try sys("fsync", path) { fsync(fd) }
    }
}
