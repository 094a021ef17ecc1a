import Foundation
import MoorHTTP
import NIOCore

/// The CLI's view of moord: Docker Engine API calls over the unix socket,
/// with the daemon's `{"message": …}` errors turned into `CLIError`s that
/// print as docker prints them.
struct DaemonClient: Sendable {
    /// The API version every path is prefixed with.
    static let apiPrefix = "/v1.41"

    let host: String
    private let http: HTTPUnixClient

    init(host: String) throws(CLIError) {
        self.host = host
        http = HTTPUnixClient(socketPath: try DaemonHost.socketPath(host))
    }

    static func target(_ path: String, _ query: HTTPQuery = HTTPQuery()) -> String {
        let encoded = query.encoded
        return apiPrefix + path + (encoded.isEmpty ? "" : "?" + encoded)
    }

    static func request(_ method: String, _ path: String, query: HTTPQuery = HTTPQuery(), json: JSON? = nil) -> HTTPClientRequest {
        let target = target(path, query)
        guard let json else { return HTTPClientRequest(method: method, target: target) }
        return .json(method: method, target: target, Array(JSONWriter.compact(json).utf8))
    }

    /// Sends a request; a 4xx/5xx answer throws with the daemon's message.
    func send(_ request: HTTPClientRequest) async throws(CLIError) -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await http.send(request)
        } catch {
            throw describe(error)
        }
        guard response.status.code < 400 else { throw await Self.failure(response) }
        return response
    }

    func send(_ method: String, _ path: String, query: HTTPQuery = HTTPQuery(), json: JSON? = nil) async throws(CLIError) -> HTTPClientResponse {
        try await send(Self.request(method, path, query: query, json: json))
    }

    /// A request whose answer is a JSON document.
    func json(_ method: String, _ path: String, query: HTTPQuery = HTTPQuery(), body: JSON? = nil) async throws(CLIError) -> JSON {
        let response = try await send(method, path, query: query, json: body)
        return try JSONParser.parse(try await collect(response.body).readableBytesView)
    }

    /// `GET path`, answered with a JSON document.
    func get(_ path: String, query: HTTPQuery = HTTPQuery()) async throws(CLIError) -> JSON {
        try await json("GET", path, query: query)
    }

    /// A request whose answer carries nothing the CLI needs.
    func call(_ method: String, _ path: String, query: HTTPQuery = HTTPQuery(), body: JSON? = nil) async throws(CLIError) {
        let response = try await send(method, path, query: query, json: body)
        _ = try await collect(response.body)
    }

    /// Opens a hijacked session (attach, exec start): the raw stream both
    /// ways, or the daemon's error.
    func hijack(_ path: String, query: HTTPQuery = HTTPQuery(), body: JSON? = nil) async throws(CLIError) -> HijackedStream {
        let outcome: HTTPHijackOutcome
        do {
            outcome = try await http.hijack(Self.request("POST", path, query: query, json: body))
        } catch {
            throw describe(error)
        }
        switch outcome {
        case let .hijacked(_, _, stream): return stream
        case let .refused(response): throw await Self.failure(response)
        }
    }

    func collect(_ body: HTTPBody) async throws(CLIError) -> ByteBuffer {
        do {
            return try await body.collect(upTo: 64 << 20)
        } catch {
            throw describe(error)
        }
    }

    /// The daemon's error answer: its `message` field, or the raw body.
    static func failure(_ response: HTTPClientResponse) async -> CLIError {
        let body = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
        let parsed = try? JSONParser.parse(body)
        let message = parsed?["message"]?.stringValue
            ?? (body.isEmpty ? "\(response.status)" : body.trimmingCharacters(in: .whitespacesAndNewlines))
        return .daemon(message, status: response.status.code)
    }

    /// A transport failure, in the words the docker CLI uses.
    func describe(_ error: any Error) -> CLIError {
        if let error = error as? CLIError { return error }
        if let error = error as? HTTPError {
            switch error.code {
            case .connectionFailed:
                return CLIError("Cannot connect to the moor daemon at \(host). Is the moor daemon running?")
            case .localFile:
                return CLIError(error.description)
            default:
                return CLIError("error during connect: \(error.description)")
            }
        }
        return CLIError("error during connect: \(error)")
    }
}
