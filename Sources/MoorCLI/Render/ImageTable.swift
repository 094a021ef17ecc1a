/// `moor images`'s table from `GET /images/json`: a row per tag (or one
/// `<none>` row for an untagged image), docker's columns and sizes.
enum ImageTable {
    static func header(digests: Bool) -> [String] {
        digests ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
            : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    }

    static func render(_ images: [JSON], digests: Bool, truncate: Bool, now: Double) -> String {
        var table = Table(header: header(digests: digests))
        for image in images {
            for row in rows(image, digests: digests, truncate: truncate, now: now) { table.append(row) }
        }
        return table.render()
    }

    /// `images -q`: each image's ID once, in order.
    static func ids(_ images: [JSON], truncate: Bool) -> String {
        var seen = Set<String>()
        var out = ""
        for image in images {
            let id = ContainerTable.id(image["Id"]?.stringValue ?? "", truncate: truncate)
            if seen.insert(id).inserted { out += id + "\n" }
        }
        return out
    }

    static func rows(_ image: JSON, digests: Bool, truncate: Bool, now: Double) -> [[String]] {
        let id = ContainerTable.id(image["Id"]?.stringValue ?? "", truncate: truncate)
        let created = HumanUnits.duration(seconds: now - Double(image["Created"]?.intValue ?? 0)) + " ago"
        let size = HumanUnits.size(image["Size"]?.intValue ?? 0)
        let repoDigests = image["RepoDigests"]?.stringArray ?? []
        var names = (image["RepoTags"]?.stringArray ?? []).filter { $0 != "<none>:<none>" }.map(splitTag)
        if names.isEmpty {
            names = repoDigests.isEmpty ? [("<none>", "<none>")] : repoDigests.map { (splitDigest($0).0, "<none>") }
        }
        return names.map { repository, tag in
            var row = [repository, tag]
            if digests {
                row.append(repoDigests.map(splitDigest).first { $0.0 == repository }?.1 ?? "<none>")
            }
            return row + [id, created, size]
        }
    }

    /// "registry:5000/a/b:tag" → ("registry:5000/a/b", "tag"): the tag
    /// follows the last ":" after the last "/".
    static func splitTag(_ reference: String) -> (String, String) {
        let lastSlash = reference.lastIndex(of: "/") ?? reference.startIndex
        guard let colon = reference[lastSlash...].lastIndex(of: ":") else { return (reference, "<none>") }
        return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
    }

    static func splitDigest(_ reference: String) -> (String, String) {
        guard let at = reference.firstIndex(of: "@") else { return (reference, "<none>") }
        return (String(reference[..<at]), String(reference[reference.index(after: at)...]))
    }
}
