import NIOHTTP1

/// Builds NIOHTTP1's request head from MoorHTTP's types.
enum HTTPRequestHeadBuilder {
    static func head(method: String, target: String, headers: HTTPFields) -> HTTPRequestHead {
        var nioHeaders = HTTPHeaders()
        for field in headers { nioHeaders.add(name: field.name, value: field.value) }
        return HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target, headers: nioHeaders)
    }
}
