import NIOHTTP1

/// Turns the HTTP decoder's errors into the status and message a client
/// gets: a malformed request is named, not just refused.
enum ParserErrorMessage {
    static func httpError(for error: any Error, headerLimit: Int) -> HTTPError {
        guard let error = error as? HTTPParserError else {
            return HTTPError(.badRequest, "malformed request: \(error)")
        }
        switch error {
        case .headerOverflow:
            return HTTPError(.headersTooLarge, "request header is too large (the limit is \(headerLimit) bytes)")
        case .invalidChunkSize:
            return HTTPError(.badRequest, "malformed chunked body: invalid chunk size")
        case .invalidContentLength:
            return HTTPError(.badRequest, "invalid Content-Length header")
        case .unexpectedContentLength:
            return HTTPError(.badRequest, "conflicting Content-Length and Transfer-Encoding headers")
        case .invalidMethod:
            return HTTPError(.badRequest, "malformed request line: invalid method")
        case .invalidURL:
            return HTTPError(.badRequest, "malformed request line: invalid request target")
        case .invalidVersion:
            return HTTPError(.badRequest, "unsupported HTTP version (only HTTP/1.0 and HTTP/1.1 are served)")
        case .invalidHeaderToken:
            return HTTPError(.badRequest, "malformed header: invalid character in a header name or value")
        case .invalidConstant, .lfExpected, .strictModeAssertion, .invalidCharactersUsed:
            return HTTPError(.badRequest, "malformed request line or header")
        case .invalidEOFState:
            return HTTPError(.badRequest, "the connection ended in the middle of the request")
        case .paused:
            // llhttp pauses on the HTTP/2 preface (`PRI * HTTP/2.0`).
            return HTTPError(.badRequest, "HTTP/2 is not served here; use HTTP/1.1")
        case .unknown:
            return HTTPError(.badRequest, "malformed request framing (Transfer-Encoding or chunked body)")
        default:
            return HTTPError(.badRequest, "malformed request: \(error)")
        }
    }
}
