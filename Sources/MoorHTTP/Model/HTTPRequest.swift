/// An HTTP version as received (`HTTP/1.0` or `HTTP/1.1`).
public struct HTTPProtocolVersion: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPProtocolVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPProtocolVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// One request as a responder sees it: the head decoded, the body streamed.
public struct HTTPRequest: Sendable {
    public var method: String
    public var target: HTTPRequestTarget
    public var headers: HTTPFields
    public var version: HTTPProtocolVersion
    public var body: HTTPBody

    /// Builds a request by hand: for responders tested without a socket.
    public init(
        method: String, target: String, headers: HTTPFields = [:],
        version: HTTPProtocolVersion = .http1_1, body: HTTPBody = .empty
    ) throws(HTTPError) {
        self.init(method: method, target: try HTTPRequestTarget(parsing: target), headers: headers,
                  version: version, body: body)
    }

    init(method: String, target: HTTPRequestTarget, headers: HTTPFields, version: HTTPProtocolVersion, body: HTTPBody) {
        self.method = method
        self.target = target
        self.headers = headers
        self.version = version
        self.body = body
    }

    /// The target as received, still encoded.
    public var rawTarget: String { target.raw }
    /// The percent-decoded path.
    public var path: String { target.path }
    public var query: HTTPQuery { target.query }

    /// The client asked to switch protocols (`Connection: Upgrade` and an
    /// `Upgrade` header): the docker CLI and docker-py do so for attach and
    /// exec start, and then expect `101 UPGRADED` from a hijack.
    public var wantsUpgrade: Bool {
        headers.containsToken("upgrade", in: "connection") && headers.contains("upgrade")
    }
}
