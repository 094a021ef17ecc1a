import Glibc

extension ImageStore {
    /// `docker rmi`, with Docker's rules:
    /// - by reference, when the image has other tags: only untags;
    /// - by reference to its last tag: untags and deletes the image, unless
    ///   a container uses it (409 without force; with force only untags when
    ///   the container runs);
    /// - by ID: needs force when several repositories tag the image or a
    ///   stopped container uses it; never while a container runs it;
    /// - deleting an image deletes each of its layers no other image holds
    ///   and no container uses (`layerInUse`, by diffID).
    /// `users` lists the containers created from an image (by image ID).
    /// Returns Docker's delete response items.
    public func remove(
        _ reference: String, force: Bool = false,
        users: @Sendable (String) async -> [ImageUser] = { _ in [] },
        layerInUse: @Sendable (String) async -> Bool = { _ in false }
    ) async throws -> [ImageDeleteItem] {
        let id = try resolve(reference)
        let containers = await users(id)
        var busyLayers = Set<String>()
        for diffID in Set(stored[id]?.config.rootfs.diffIDs ?? []) where await layerInUse(diffID) {
            busyLayers.insert(diffID)
        }
        // No suspension from here on: the checks and the changes are one step.
        guard try resolve(reference) == id else {
            throw ImagesError.conflict("image \(reference) changed while being removed; try again")
        }
        var removal = ImageRemoval(id: id, force: force, containers: containers, tags: tags)
        let mayDelete = try removal.untag(reference: reference)
        guard mayDelete, try removal.checkDelete() else {
            try writeTags(removal.tags)
            return removal.items
        }
        removal.untagAll()
        try writeTags(removal.tags)
        let doomed = try deleteImage(id, busyLayers: busyLayers, items: &removal.items)
        await Self.deleteDetached(doomed, logger: logger)
        return removal.items
    }

    /// Drops the image config and the layers only it held; returns the
    /// layer directories to delete.
    private func deleteImage(_ id: String, busyLayers: Set<String>, items: inout [ImageDeleteItem]) throws -> [String] {
        let diffIDs = stored[id]?.config.rootfs.diffIDs ?? []
        try sys("unlink", layout.imageConfig(id)) { unlink(layout.imageConfig(id)) }
        try FileIO.syncDirectory(layout.images)
        stored[id] = nil
        items.append(.deleted(id))
        logger.info("image store: deleted", metadata: ["image": "\(id)"])
        var doomed = [String]()
        var seen = Set<String>()
        for diffID in diffIDs.reversed() where seen.insert(diffID).inserted {
            guard layers[diffID] != nil, isUnused(diffID), !busyLayers.contains(diffID) else { continue }
            doomed.append(try detachLayer(diffID))
            items.append(.deleted(diffID))
        }
        return doomed
    }

    /// The 12-hex-digit form Docker prints.
    static func shortID(_ id: String) -> String {
        String(StoreLayout.hex(id).prefix(12))
    }
}
