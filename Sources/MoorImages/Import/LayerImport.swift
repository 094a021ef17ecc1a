import Glibc
import Logging

/// A layer unpacked into tmp/, not yet in the store.
struct UnpackedLayer: Sendable {
    var directory: String
    var metadata: LayerMetadata
}

/// Receives a `docker import` stream into a fresh directory under the
/// store's tmp/ (see `LayerWriter`). On any failure, cancellation included,
/// the directory is removed before the error is rethrown, so nothing is left
/// behind.
struct LayerImport {
    let layout: StoreLayout
    let options: ImageStore.Options
    let logger: Logger

    func unpack<Body: AsyncSequence>(_ body: Body) async throws -> UnpackedLayer
    where Body.Element: Sequence, Body.Element.Element == UInt8 {
        let directory = layout.tmp + "/import-" + FileIO.randomSuffix()
        do {
            let writer = try LayerWriter(directory: directory, options: options, whiteouts: .keep, logger: logger)
            for try await chunk in body {
                try Task.checkCancellation()
                let fed: Void? = try chunk.withContiguousStorageIfAvailable { try writer.feed(UnsafeRawBufferPointer($0)) }
                if fed == nil { try Array(chunk).withUnsafeBytes { try writer.feed($0) } }
            }
            return try writer.finish()
        } catch {
            Self.discard(directory, logger: logger)
            throw error
        }
    }

    /// Removes a failed operation's directory; a failure is only logged (what
    /// remains under tmp/ goes at the next start).
    static func discard(_ directory: String, logger: Logger) {
        guard FileIO.exists(directory) else { return }
        do {
            try RemoveTree.remove(path: directory)
        } catch {
            logger.error("image store: cannot remove a failed operation's files", metadata: ["error": "\(error)"])
        }
    }
}
