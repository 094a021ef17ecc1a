import Glibc
import Logging

extension ImageStore {
    /// Removes the layers no image holds, no container uses (per
    /// `layerInUse`) and no reader has pinned: those left by a crash between
    /// moving a load's layers in and writing its images, kept for a container
    /// after its image was force-removed, or kept while a save read them.
    /// Returns the diffIDs removed.
    public func pruneLayers(layerInUse: @Sendable (String) async -> Bool) async throws -> [String] {
        var candidates = [String]()
        for diffID in layers.keys.sorted() where isUnused(diffID) {
            if await !layerInUse(diffID) { candidates.append(diffID) }
        }
        // Decide again after the awaits: an import may have taken a layer.
        var doomed = [String]()
        var removed = [String]()
        for diffID in candidates where layers[diffID] != nil && isUnused(diffID) {
            doomed.append(try detachLayer(diffID))
            removed.append(diffID)
        }
        await Self.deleteDetached(doomed, logger: logger)
        return removed
    }

    /// True when an image holds the layer.
    func isHeld(_ diffID: String) -> Bool {
        stored.values.contains { $0.config.rootfs.diffIDs.contains(diffID) }
    }

    /// Takes a layer out of the store at once (a rename into tmp/); its
    /// files are deleted afterwards by `deleteDetached`, off the actor.
    /// Returns the directory to delete.
    func detachLayer(_ diffID: String) throws -> String {
        let doomed = layout.tmp + "/delete-" + StoreLayout.hex(diffID) + "-" + FileIO.randomSuffix()
        try sys("rename", "\(layout.layerDirectory(diffID)) -> \(doomed)") {
            rename(layout.layerDirectory(diffID), doomed)
        }
        layers[diffID] = nil
        try FileIO.syncDirectory(layout.layers)
        return doomed
    }

    /// Moves an unknown directory out of layers/ and deletes it.
    func discardLayerDirectory(_ path: String, name: String) throws {
        let doomed = layout.tmp + "/delete-" + name + "-" + FileIO.randomSuffix()
        try sys("rename", "\(path) -> \(doomed)") { rename(path, doomed) }
        try RemoveTree.remove(path: doomed)
    }

    /// Deletes detached layer directories. A failure is only logged: the
    /// layer is already gone from the store, and what remains under tmp/
    /// goes at the next `sweepIncomplete()`.
    nonisolated static func deleteDetached(_ paths: [String], logger: Logger) async {
        for path in paths {
            do {
                try RemoveTree.remove(path: path)
            } catch {
                logger.warning("image store: cannot delete a removed layer", metadata: ["error": "\(error)"])
            }
        }
    }
}
