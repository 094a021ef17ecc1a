import Glibc

extension ImageStore {
    /// The merged tree of an image's layers, whiteouts and opaque
    /// directories applied, copied into `directory` (created; it must not
    /// exist): what the vfs storage driver gives a container on hosts
    /// without overlayfs. See `TreeMerger` for what is kept.
    ///
    /// The image's layers are pinned while they are copied. On failure the
    /// partial directory is removed before the error is thrown.
    public nonisolated func materialize(_ reference: String, into directory: String) async throws {
        let (diffIDs, paths) = try await pinLayers(of: reference)
        do {
            try sys("mkdir", directory) { mkdir(directory, 0o700) }
        } catch {
            await unpin(diffIDs)
            throw error
        }
        do {
            try Self.merge(paths, into: directory)
            await unpin(diffIDs)
        } catch {
            await unpin(diffIDs)
            try? RemoveTree.remove(path: directory)
            throw error
        }
    }

    /// The image's layer directories, bottom-most first, pinned.
    private func pinLayers(of reference: String) throws -> ([String], [String]) {
        let id = try resolve(reference)
        let diffIDs = stored[id]?.config.rootfs.diffIDs ?? []
        for diffID in diffIDs where layers[diffID] == nil {
            throw ImagesError.system("layer \(diffID) of image \(id) is missing from the store", errno: 0)
        }
        pin(diffIDs)
        return (diffIDs, diffIDs.map(layout.diffDirectory))
    }

    private nonisolated static func merge(_ layers: [String], into directory: String) throws {
        let fd = try sys("open", directory) { open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        defer { closeFD(fd) }
        let merger = TreeMerger(targetFD: fd, target: directory)
        for layer in layers { try merger.apply(layer: layer) }
        try merger.finish()
    }
}
