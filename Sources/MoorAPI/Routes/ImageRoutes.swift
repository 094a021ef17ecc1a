import Foundation
import MoorEngine
import MoorHTTP
import MoorImages

/// `/images/...`. Names may contain slashes ("library/busybox"), hence
/// the `{name+}` patterns.
enum ImageRoutes {
    static let routes: [Route] = [
        Route("GET", "/images/json", list),
        Route("POST", "/images/create", create),
        Route("POST", "/images/load", ImageArchiveRoutes.load),
        Route("GET", "/images/get", ImageArchiveRoutes.saveMany),
        Route("POST", "/images/prune", ImageArchiveRoutes.prune),
        Route("GET", "/images/{name+}/get", ImageArchiveRoutes.saveOne),
        Route("GET", "/images/{name+}/json", inspect),
        Route("GET", "/images/{name+}/history", history),
        Route("POST", "/images/{name+}/tag", tag),
        Route("DELETE", "/images/{name+}", remove),
    ]

    static func list(_ r: APIRequest) async throws {
        let filters = try r.filters()
        for key in filters.keys where !["dangling", "label", "reference", "before", "since"].contains(key) {
            throw APIError(400, "invalid filter '\(key)'")
        }
        var images = await r.context.images.list()
        if let references = filters["reference"] {
            images = images.filter { image in
                image.repoTags.contains { tag in references.contains { ImageFilter.matches(reference: tag, pattern: $0) } }
            }
        }
        if let dangling = filters["dangling"]?.first {
            images = images.filter { $0.repoTags.isEmpty == (dangling == "true" || dangling == "1") }
        }
        if let labels = filters["label"] {
            images = images.filter { image in
                let have = image.config.config?.labels ?? [:]
                return labels.allSatisfy { label in
                    let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                    return parts.count == 2 ? have[parts[0]] == parts[1] : have[parts[0]] != nil
                }
            }
        }
        try await r.send(.array(images.map(ImageRender.summary)))
    }

    static func inspect(_ r: APIRequest) async throws {
        try await r.send(ImageRender.inspect(try await r.context.images.inspect(r.param("name"))))
    }

    static func history(_ r: APIRequest) async throws {
        let image = try await r.context.images.inspect(r.param("name"))
        try await r.send(ImageRender.history(image))
    }

    /// `docker import` (fromSrc=-); a pull (fromImage) cannot be done here.
    static func create(_ r: APIRequest) async throws {
        if let image = r.query.string("fromImage"), !image.isEmpty {
            let tag = r.query.string("tag").flatMap { $0.isEmpty ? nil : $0 } ?? "latest"
            _ = try? await r.http.body.discard()
            throw APIError(404, "pull access denied for \(image):\(tag): moor does not pull from registries; bring the image with docker load or docker import")
        }
        guard let source = r.query.string("fromSrc") else {
            throw APIError(400, "images/create needs fromSrc=- (docker import) or fromImage")
        }
        guard source == "-" else {
            throw APIError(400, "fromSrc \(source): moor imports only an archive sent in the request body (fromSrc=-)")
        }
        var reference: String?
        if let repo = r.query.string("repo"), !repo.isEmpty {
            let tag = r.query.string("tag") ?? ""
            reference = tag.isEmpty ? repo : repo + ":" + tag
        }
        let changes = r.query.strings("changes")
        let id = try await r.context.images.importTarball(
            r.http.body.map { $0.readableBytesView }, reference: reference, changes: changes,
            message: r.query.string("message"), platform: r.query.string("platform"))
        try await r.response.sendJSON(status: .ok, JSONValue.object([("status", .string(id))]).serialized() + [0x0a])
    }

    static func tag(_ r: APIRequest) async throws {
        guard let repo = r.query.string("repo"), !repo.isEmpty else { throw APIError(400, "tag: repository name must be given") }
        let tag = r.query.string("tag") ?? ""
        try await r.context.images.tag(r.param("name"), as: tag.isEmpty ? repo : repo + ":" + tag)
        try await r.response.send(status: .created)
    }

    static func remove(_ r: APIRequest) async throws {
        let items = try await r.context.images.remove(r.param("name"), force: r.bool("force"))
        let body = try JSONEncoder().encode(items)
        try await r.response.sendJSON(status: .ok, Array(body))
    }
}

enum ImageFilter {
    /// `reference=busybox` matches "busybox:latest"; `busybox:1*` globs the tag.
    static func matches(reference: String, pattern: String) -> Bool {
        if reference == pattern || reference == pattern + ":latest" { return true }
        return fnmatch(pattern, reference, 0) == 0 || fnmatch(pattern, String(reference.split(separator: ":").first ?? ""), 0) == 0
    }
}

/// Errors from the image store carry their Docker status.
enum ImageErrorMapping {
    static func describe(_ error: any Error) -> (Int, String)? {
        guard let error = error as? ImagesError else { return nil }
        return (error.status, error.message)
    }
}
