/// A request target split into its decoded path and query.
///
/// The docker CLI sends origin-form targets (`/v1.43/containers/json?all=1`);
/// absolute-form (`http://docker/v1.43/...`) is accepted too, as HTTP/1.1
/// servers must.
public struct HTTPRequestTarget: Sendable, Hashable {
    /// The target as received, still encoded.
    public var raw: String
    /// The path, still percent-encoded (for routers that must tell `%2F`
    /// from `/`).
    public var rawPath: String
    /// The percent-decoded path.
    public var path: String
    public var query: HTTPQuery

    public init(parsing raw: String) throws(HTTPError) {
        self.raw = raw
        var rest = Substring(raw)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        if let schemeEnd = rest.firstRange(of: "://"), rest[..<schemeEnd.lowerBound].allSatisfy(\.isLetter) {
            let authorityAndPath = rest[schemeEnd.upperBound...]
            rest = authorityAndPath.firstIndex(of: "/").map { authorityAndPath[$0...] } ?? "/"
        }
        let pathPart: Substring
        let queryPart: Substring
        if let mark = rest.firstIndex(of: "?") {
            pathPart = rest[..<mark]
            queryPart = rest[rest.index(after: mark)...]
        } else {
            pathPart = rest
            queryPart = ""
        }
        guard pathPart.first == "/" || pathPart == "*" else {
            throw HTTPError(.badRequest, "request target \"\(raw)\" does not start with /")
        }
        rawPath = String(pathPart)
        path = try PercentEncoding.decode(pathPart, plusIsSpace: false)
        query = try HTTPQuery(parsing: queryPart)
    }
}
