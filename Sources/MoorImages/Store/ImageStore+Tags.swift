extension ImageStore {
    /// `docker tag`: points `target` at the image `source` names, moving
    /// the tag if it pointed elsewhere.
    public func tag(_ source: String, as target: String) throws {
        let id = try resolve(source)
        let reference = try Self.tagTarget(target)
        var newTags = tags
        newTags[reference.description] = id
        try writeTags(newTags)
    }

    /// Removes one tag, leaving the image (even untagged) in place.
    public func untag(_ reference: String) throws -> ImageDeleteItem {
        let key = try ImageReference.parse(reference).withDefaultTag.description
        guard tags[key] != nil else { throw ImagesError.noSuchImage(key) }
        var newTags = tags
        newTags[key] = nil
        try writeTags(newTags)
        return .untagged(key)
    }
}
