extension ImageStore {
    /// The image ID `text` names, resolved as Docker resolves it:
    /// a full ID (with or without "sha256:") → that image; otherwise a
    /// reference ("busybox" means "busybox:latest") → its tag; otherwise a
    /// unique ID prefix ("sha256:" optional). An ambiguous prefix is not
    /// found, as in Docker, with the reason added.
    public func resolve(_ text: String) throws -> String {
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        if hex.utf8.count == 64 && Hex.isLowercaseHex(hex) {
            guard stored["sha256:" + hex] != nil else { throw ImagesError.noSuchImage("sha256:" + hex) }
            return "sha256:" + hex
        }
        let reference = try ImageReference.parse(text).withDefaultTag
        if let id = tags[reference.description], stored[id] != nil { return id }
        if Hex.isLowercaseHex(hex) {
            let matches = stored.keys.filter { $0.dropFirst(7).hasPrefix(hex) }
            if matches.count == 1, let id = matches.first { return id }
            if matches.count > 1 {
                throw ImagesError.notFound("No such image: \(text) (the ID prefix matches \(matches.count) images)")
            }
        }
        throw ImagesError.noSuchImage(text.hasPrefix("sha256:") ? text : reference.description)
    }

    /// The references tagging `id`.
    func references(of id: String) -> [String] {
        tags.filter { $0.value == id }.keys.sorted()
    }

    /// A reference to create with `docker tag` or `docker import`:
    /// normalised, ":latest" by default, never a digest.
    static func tagTarget(_ text: String) throws -> ImageReference {
        let reference = try ImageReference.parse(text)
        guard reference.digest == nil else {
            throw ImagesError.invalid("refusing to create a tag with a digest reference (\"\(text)\")")
        }
        guard reference.familiarName != "sha256" else {
            throw ImagesError.invalid("refusing to create an ambiguous tag using digest algorithm as name (\"\(text)\")")
        }
        return reference.withDefaultTag
    }
}
