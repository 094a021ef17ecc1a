/// An image reference as Docker parses and normalises it:
/// `[registry[:port]/]path[:tag][@digest]`, where a name without registry
/// lives on docker.io and a one-component docker.io name under library/.
/// Shown in the familiar form Docker prints ("busybox:latest",
/// "localhost:5000/app:1"), which is also how repositories.json keys it.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public static let defaultDomain = "docker.io"
    public static let defaultTag = "latest"

    public var domain: String
    /// The repository path on the registry: "library/busybox".
    public var path: String
    public var tag: String?
    /// "sha256:<hex>".
    public var digest: String?

    /// "busybox", "user/app", "localhost:5000/app".
    public var familiarName: String {
        guard domain == Self.defaultDomain else { return "\(domain)/\(path)" }
        let library = "library/"
        if path.hasPrefix(library) && !path.dropFirst(library.count).contains("/") {
            return String(path.dropFirst(library.count))
        }
        return path
    }

    /// "busybox:latest", "busybox@sha256:...".
    public var description: String {
        var text = familiarName
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// With ":latest" when neither a tag nor a digest was given.
    public var withDefaultTag: ImageReference {
        var copy = self
        if tag == nil && digest == nil { copy.tag = Self.defaultTag }
        return copy
    }

    /// Parses and normalises; every error is a 400 naming the reference.
    public static func parse(_ text: String) throws -> ImageReference {
        let invalid = { (reason: String) in ImagesError.invalid("invalid reference format: \(reason) (\"\(text)\")") }
        guard !text.isEmpty else { throw invalid("empty reference") }
        if text.utf8.count == 64 && Hex.isLowercaseHex(text) {
            throw ImagesError.invalid("invalid repository name (\(text)), cannot specify 64-byte hexadecimal strings")
        }
        var rest = Substring(text)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            let value = String(rest[rest.index(after: at)...])
            guard ReferenceSyntax.isDigest(value) else { throw invalid("bad digest \"\(value)\"") }
            digest = value
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let value = String(rest[rest.index(after: colon)...])
            guard ReferenceSyntax.isTag(value) else { throw invalid("bad tag \"\(value)\"") }
            tag = value
            rest = rest[..<colon]
        }
        let (domain, path) = try split(rest, invalid: invalid)
        guard domain.utf8.count + 1 + path.utf8.count <= 255 else {
            throw invalid("repository name must not be more than 255 characters")
        }
        return ImageReference(domain: domain, path: path, tag: tag, digest: digest)
    }

    /// Separates and validates the registry and the path, normalising
    /// Docker Hub's names.
    private static func split(_ name: Substring, invalid: (String) -> ImagesError) throws -> (String, String) {
        guard !name.isEmpty else { throw invalid("empty repository name") }
        var domain = defaultDomain
        var path = name
        if let slash = name.firstIndex(of: "/") {
            let first = name[..<slash]
            // The first component is a registry when it looks like a host.
            if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
                domain = String(first)
                path = name[name.index(after: slash)...]
            }
        }
        guard path.lowercased() == path else { throw invalid("repository name must be lowercase") }
        guard ReferenceSyntax.isDomain(domain) else { throw invalid("bad registry \"\(domain)\"") }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard components.allSatisfy(ReferenceSyntax.isPathComponent) else {
            throw invalid("bad repository name \"\(path)\"")
        }
        if domain == "index.docker.io" { domain = defaultDomain }
        if domain == defaultDomain && components.count == 1 { return (domain, "library/\(path)") }
        return (domain, String(path))
    }
}
