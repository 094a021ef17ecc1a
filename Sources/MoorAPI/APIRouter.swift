import Foundation
import Logging
import MoorEngine
import MoorHTTP
import NIOCore

/// The Docker Engine API over MoorHTTP: version prefixes and negotiation,
/// the route table, and Docker's error bodies. Handlers live in Routes/,
/// one file per resource, and talk to the engine only.
public struct APIRouter: HTTPResponder {
    public static let apiVersion = "1.41"
    public static let minimumAPIVersion = "1.12"

    let context: APIContext
    private let routes: [Route]

    public init(context: APIContext) {
        self.context = context
        routes = SystemRoutes.routes + ContainerRoutes.routes + ExecRoutes.routes + ImageRoutes.routes
    }

    public func respond(to request: HTTPRequest, response: HTTPResponseWriter) async throws {
        let (version, path) = Self.splitVersion(request.path)
        do {
            if let version { try Self.check(version) }
            let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            let method = request.method == "HEAD" ? "GET" : request.method
            guard let (route, params) = match(method: method, segments: segments) else {
                try await response.sendError(status: .notFound, message: "page not found")
                return
            }
            let api = APIRequest(http: request, response: response, params: params,
                                 version: version ?? Self.apiVersion, context: context)
            try await route.handler(api)
        } catch is APIResponseSent {
            return
        } catch let error as HTTPError where error.code == .connectionClosed {
            // The client left (docker run -d does not read its wait): nothing to answer.
            context.logger.debug("client went away", metadata: ["path": "\(request.path)"])
        } catch {
            let (status, message) = Self.describe(error)
            if status >= 500 {
                context.logger.error("request failed", metadata: ["method": "\(request.method)", "path": "\(request.path)", "error": "\(message)"])
            } else {
                context.logger.debug("request refused", metadata: ["method": "\(request.method)", "path": "\(request.path)", "status": "\(status)", "error": "\(message)"])
            }
            if status == 304 {
                try? await response.send(status: .notModified)
            } else {
                try? await response.sendError(status: HTTPStatus(code: status), message: message)
            }
        }
    }

    private func match(method: String, segments: [String]) -> (Route, [String: String])? {
        for route in routes where route.method == method {
            var params: [String: String] = [:]
            if Self.match(route.pattern[...], segments[...], &params) { return (route, params) }
        }
        return nil
    }

    /// "{id}" takes one segment; "{name+}" one or more (image names have
    /// slashes: /images/library/busybox/json).
    static func match(_ pattern: ArraySlice<String>, _ segments: ArraySlice<String>, _ params: inout [String: String]) -> Bool {
        guard let part = pattern.first else { return segments.isEmpty }
        if part.hasPrefix("{") && part.hasSuffix("+}") {
            let name = String(part.dropFirst().dropLast(2))
            let rest = pattern.dropFirst()
            guard segments.count > rest.count else { return false }
            for take in stride(from: segments.count - rest.count, through: 1, by: -1) {
                var attempt = params
                if match(rest, segments.dropFirst(take), &attempt) {
                    params = attempt
                    params[name] = segments.prefix(take).joined(separator: "/")
                    return true
                }
            }
            return false
        }
        guard let segment = segments.first else { return false }
        if part.hasPrefix("{") {
            params[String(part.dropFirst().dropLast())] = segment
        } else if part != segment {
            return false
        }
        return match(pattern.dropFirst(), segments.dropFirst(), &params)
    }

    /// "/v1.41/containers/json" → ("1.41", "/containers/json").
    static func splitVersion(_ path: String) -> (String?, String) {
        guard path.hasPrefix("/v") else { return (nil, path) }
        let rest = path.dropFirst(2)
        guard let slash = rest.firstIndex(of: "/") else {
            let candidate = String(rest)
            return candidate.first?.isNumber == true ? (candidate, "/") : (nil, path)
        }
        let candidate = String(rest[..<slash])
        guard candidate.first?.isNumber == true, candidate.allSatisfy({ $0.isNumber || $0 == "." }) else { return (nil, path) }
        return (candidate, String(rest[slash...]))
    }

    static func check(_ version: String) throws {
        if compare(version, minimumAPIVersion) < 0 {
            throw APIError(400, "client version \(version) is too old. Minimum supported API version is \(minimumAPIVersion), please upgrade your client to a newer version")
        }
        if compare(version, apiVersion) > 0 {
            throw APIError(400, "client version \(version) is too new. Maximum supported API version is \(apiVersion)")
        }
    }

    static func compare(_ a: String, _ b: String) -> Int {
        let x = a.split(separator: ".").map { Int($0) ?? 0 }, y = b.split(separator: ".").map { Int($0) ?? 0 }
        for i in 0..<max(x.count, y.count) {
            let l = i < x.count ? x[i] : 0, r = i < y.count ? y[i] : 0
            if l != r { return l < r ? -1 : 1 }
        }
        return 0
    }

    /// Docker's status and message for any error a handler throws.
    static func describe(_ error: any Error) -> (Int, String) {
        switch error {
        case let error as APIError: return (error.status, error.message)
        case let error as EngineError: return (error.httpStatus, error.message)
        case let error as DecodingError: return (400, "invalid JSON: " + DecodingErrorText.describe(error))
        default:
            if let mapped = ImageErrorMapping.describe(error) { return mapped }
            return (500, "\(error)")
        }
    }
}

struct Route: Sendable {
    let method: String
    let pattern: [String]
    let handler: @Sendable (APIRequest) async throws -> Void

    init(_ method: String, _ path: String, _ handler: @escaping @Sendable (APIRequest) async throws -> Void) {
        self.method = method
        pattern = path.split(separator: "/").map(String.init)
        self.handler = handler
    }
}

/// An error with the HTTP status the API answers it with.
struct APIError: Error, CustomStringConvertible {
    let status: Int
    let message: String
    init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
    var description: String { message }
}

/// Thrown by a handler that already answered (e.g. after a hijack).
struct APIResponseSent: Error {}

/// One request as a handler sees it.
struct APIRequest: Sendable {
    let http: HTTPRequest
    let response: HTTPResponseWriter
    let params: [String: String]
    let version: String
    let context: APIContext

    var engine: Engine { context.engine }
    var query: HTTPQuery { http.query }

    func param(_ name: String) -> String { params[name] ?? "" }

    func send(_ json: JSONValue, status: HTTPStatus = .ok) async throws {
        try await response.sendJSON(status: status, json.serialized())
    }

    func noContent() async throws {
        try await response.send(status: .noContent)
    }

    /// The body as a decoded JSON value (an empty body decodes `{}`).
    func decode<T: Decodable>(_ type: T.Type, limit: Int = 16 << 20) async throws -> T {
        let buffer = try await http.body.collect(upTo: limit)
        let bytes = buffer.readableBytesView
        let data = bytes.isEmpty ? Data("{}".utf8) : Data(bytes)
        return try JSONDecoder().decode(type, from: data)
    }

    func int(_ name: String) throws -> Int? {
        guard let text = query.string(name), !text.isEmpty else { return nil }
        guard let value = Int(text) else { throw APIError(400, "invalid value for \(name): \"\(text)\" is not an integer") }
        return value
    }

    func bool(_ name: String) -> Bool { query.bool(name) }

    /// Docker's `filters` parameter: `{"key":["v"]}` or the older `{"key":{"v":true}}`.
    func filters() throws -> [String: [String]] {
        guard let text = query.string("filters"), !text.isEmpty else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw APIError(400, "invalid filter: \(text) is not a JSON object")
        }
        var out: [String: [String]] = [:]
        for (key, value) in object {
            if let list = value as? [String] {
                out[key] = list
            } else if let map = value as? [String: Bool] {
                out[key] = map.filter(\.value).map(\.key)
            } else {
                throw APIError(400, "invalid filter '\(key)': values must be a list of strings")
            }
        }
        return out
    }
}

/// Turns a DecodingError into "Config.Cmd: expected an array of strings".
enum DecodingErrorText {
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "body" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case let .typeMismatch(type, context): return "\(path(context)): expected \(type)"
        case let .valueNotFound(type, context): return "\(path(context)): missing \(type)"
        case let .keyNotFound(key, context): return "\(path(context)).\(key.stringValue): required"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
                                              : "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
