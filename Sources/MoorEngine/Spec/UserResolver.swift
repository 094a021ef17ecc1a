import Foundation

/// The uid, gid and supplementary groups a `User` string means inside a
/// container, read from the image's /etc/passwd and /etc/group the way
/// Docker (runc's libcontainer) does it.
struct ResolvedUser: Sendable, Equatable {
    var uid: UInt32
    var gid: UInt32
    var additionalGids: [UInt32]
}

struct UserResolver: Sendable {
    /// Layer directories to read from, top-most first (the container's own
    /// upper directory first): the first one holding a file wins.
    let layers: [String]

    func resolve(_ user: String, groupAdd: [String] = []) throws -> ResolvedUser {
        let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts.first ?? ""
        let groupPart = parts.count > 1 ? parts[1] : nil
        let passwd = entries(of: "/etc/passwd")
        let groups = entries(of: "/etc/group")

        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var name = "root"
        if !userPart.isEmpty {
            if let entry = passwd.first(where: { $0.first == userPart }) ?? numericMatch(userPart, passwd) {
                uid = UInt32(entry[safe: 2] ?? "") ?? 0
                gid = UInt32(entry[safe: 3] ?? "") ?? 0
                name = entry[0]
            } else if let number = UInt32(userPart) {
                uid = number
                name = ""
            } else {
                throw EngineError.invalid("unable to find user \(userPart): no matching entries in passwd file")
            }
        } else if let root = passwd.first(where: { $0[safe: 2] == "0" }) {
            gid = UInt32(root[safe: 3] ?? "") ?? 0
        }
        if let groupPart, !groupPart.isEmpty {
            gid = try groupID(groupPart, groups)
        }
        var additional: [UInt32] = []
        // Docker gives the user every group that lists it, unless a group was named.
        if groupPart == nil, !name.isEmpty {
            for group in groups where (group[safe: 3] ?? "").split(separator: ",").contains(Substring(name)) {
                if let id = UInt32(group[safe: 2] ?? ""), id != gid, !additional.contains(id) { additional.append(id) }
            }
        }
        for extra in groupAdd {
            let id = try groupID(extra, groups)
            if !additional.contains(id) { additional.append(id) }
        }
        return ResolvedUser(uid: uid, gid: gid, additionalGids: additional)
    }

    private func numericMatch(_ text: String, _ passwd: [[String]]) -> [String]? {
        guard UInt32(text) != nil else { return nil }
        return passwd.first { $0[safe: 2] == text }
    }

    private func groupID(_ text: String, _ groups: [[String]]) throws -> UInt32 {
        if let entry = groups.first(where: { $0.first == text }), let id = UInt32(entry[safe: 2] ?? "") { return id }
        if let id = UInt32(text) { return id }
        throw EngineError.invalid("unable to find group \(text): no matching entries in group file")
    }

    /// The colon-separated lines of a file in the container's root.
    private func entries(of path: String) -> [[String]] {
        guard let text = RootfsFile.read(path, layers: layers) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
            return trimmed.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        }
    }
}

/// Reading a small file of a container's root before it is mounted.
enum RootfsFile {
    /// The file as the merged overlay would show it: the top-most layer
    /// holding it wins; a whiteout (`.wh.NAME`) or an opaque directory above
    /// hides what lies below.
    static func read(_ path: String, layers: [String]) -> String? {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        let parent = url.deletingLastPathComponent().path
        for layer in layers {
            if FileManager.default.fileExists(atPath: layer + parent + "/.wh." + name) { return nil }
            if let data = FileManager.default.contents(atPath: layer + path) {
                return String(decoding: data, as: UTF8.self)
            }
            if FileManager.default.fileExists(atPath: layer + parent + "/.wh..wh..opq") { return nil }
        }
        return nil
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
