/// Validation of the paths an archive names: relative, no "..", at most
/// PATH_MAX long. A leading "./" (and any "." component) is dropped.
enum EntryPath {
    /// PATH_MAX minus the NUL: a longer path is unusable in a container.
    static let maxLength = 4095

    /// The components of `path`, empty for the layer root itself. `role`
    /// says which path of the entry this is ("path", "hardlink target").
    static func components(_ path: [UInt8], entry: String, role: String = "path") throws -> [[UInt8]] {
        guard path.count <= maxLength else {
            throw ImagesError.badEntry(entry, "the \(role) is longer than \(maxLength) bytes")
        }
        if path.first == UInt8(ascii: "/") {
            throw ImagesError.badEntry(entry, "absolute \(role) \"\(displayPath(path))\" is not allowed")
        }
        var result = [[UInt8]]()
        for part in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.elementsEqual([UInt8(ascii: ".")]) { continue }
            if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                throw ImagesError.badEntry(entry, "the \(role) \"\(displayPath(path))\" contains \"..\"")
            }
            result.append(Array(part))
        }
        return result
    }

    /// Components joined back, for messages.
    static func display(_ components: some Collection<[UInt8]>) -> String {
        displayPath(Array(components.joined(separator: [UInt8(ascii: "/")])))
    }
}
