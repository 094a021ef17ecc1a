import Foundation
import MoorHTTP
import MoorImages

/// `docker load`, `docker save` and `docker image prune`.
enum ImageArchiveRoutes {
    /// POST /images/load: the archive is the body. As dockerd: 200 with a
    /// JSON stream whatever happens — progress objects unless quiet, a
    /// `{"stream": "Loaded image: NAME\n"}` line per tag, and an error as an
    /// `errorDetail` line. After an error the rest of the upload is read,
    /// so a client that writes the whole body before reading gets it.
    static func load(_ r: APIRequest) async throws {
        let quiet = r.bool("quiet")
        let stream = try await r.response.startStream(headers: ["Content-Type": "application/json"])
        let body = SharedBody(r.http.body)
        do {
            let progress: (@Sendable (LoadProgress) async -> Void)? = quiet ? nil : { @Sendable event in
                _ = try? await stream.write(bytes: ImageRender.loadProgress(event))
            }
            let images = try await r.context.images.load(body, progress: progress)
            for line in images.flatMap(\.messages) {
                try await stream.write(bytes: ImageRender.streamLine(line + "\n"))
            }
        } catch let error as HTTPError where error.code == .connectionClosed {
            throw error
        } catch {
            let (status, message) = APIRouter.describe(error)
            r.context.logger.log(level: status >= 500 ? .error : .info, "docker load refused",
                                 metadata: ["error": "\(message)"])
            await body.drain()
            try await stream.write(bytes: ImageRender.errorLine(message))
        }
        try await stream.finish()
    }

    /// GET /images/get?names=a&names=b
    static func saveMany(_ r: APIRequest) async throws {
        try await save(r, names: r.query.strings("names"))
    }

    /// GET /images/{name}/get
    static func saveOne(_ r: APIRequest) async throws {
        try await save(r, names: [r.param("name")])
    }

    /// A tar stream. Errors found before the first byte are HTTP errors
    /// (404 for a name that resolves to nothing); after it, as dockerd, the
    /// error goes into the stream, which no tar reader will then accept.
    private static func save(_ r: APIRequest, names: [String]) async throws {
        guard !names.isEmpty else { throw APIError(400, "no image names given: use names=IMAGE") }
        let writer = StreamSlot()
        do {
            try await r.context.images.save(names) { _ in
                let stream = try await r.response.startStream(headers: ["Content-Type": "application/x-tar"])
                writer.set(stream)
                return { chunk in try await stream.write(bytes: chunk) }
            }
        } catch let error as HTTPError where error.code == .connectionClosed {
            throw error
        } catch {
            guard let stream = writer.get() else { throw error }
            let (_, message) = APIRouter.describe(error)
            r.context.logger.error("docker save failed after the archive began", metadata: ["error": "\(message)"])
            try? await stream.write(bytes: ImageRender.errorLine(message))
            return
        }
        try await writer.get()?.finish()
    }

    /// POST /images/prune
    static func prune(_ r: APIRequest) async throws {
        let filters = try ImagePruneFilters(try r.filters(), now: Date().timeIntervalSince1970)
        let (items, reclaimed) = try await r.context.images.prune(filters)
        try await r.send(ImageRender.pruneReport(items, reclaimed: reclaimed))
    }
}

/// The response stream, once a save has started it.
private final class StreamSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var stream: HTTPStreamWriter?

    func set(_ value: HTTPStreamWriter) {
        lock.withLock { stream = value }
    }

    func get() -> HTTPStreamWriter? {
        lock.withLock { stream }
    }
}
