extension ImageStore {
    /// `docker image prune`: removes the images the filters admit that no
    /// container uses (dangling ones only, unless the filter says
    /// dangling=false), with Docker's delete items, and the bytes of the
    /// layers that went (SpaceReclaimed).
    public func prune(
        _ filters: ImagePruneFilters,
        users: @Sendable (String) async -> [ImageUser] = { _ in [] },
        layerInUse: @Sendable (String) async -> Bool = { _ in false }
    ) async throws -> (items: [ImageDeleteItem], reclaimed: Int64) {
        var items = [ImageDeleteItem]()
        var reclaimed: Int64 = 0
        for image in images() where filters.admits(image) {
            guard await users(image.id).isEmpty, stored[image.id] != nil else { continue }
            // The store may have changed during the await: check again.
            guard filters.admits(record(image.id)) else { continue }
            let sizes = Dictionary(layers.map { ($0.key, $0.value.size) }, uniquingKeysWith: { first, _ in first })
            let removed: [ImageDeleteItem]
            do {
                removed = try await remove(image.id, force: true, users: users, layerInUse: layerInUse)
            } catch let error as ImagesError where error.status == 409 || error.status == 404 {
                // Taken by a container (or gone) meanwhile: not this prune's.
                logger.debug("image prune: skipped", metadata: ["image": "\(image.id)", "error": "\(error)"])
                continue
            }
            for case let .deleted(id) in removed { reclaimed += sizes[id] ?? 0 }
            items += removed
        }
        return (items, reclaimed)
    }
}
