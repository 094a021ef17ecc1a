import Foundation
import MoorHTTP
import NIOCore
import Testing

@Suite("Malformed requests get a 400 naming the problem", .timeLimit(.minutes(2)))
struct MalformedRequestTests {
    struct Case: Sendable {
        var name: String
        var request: String
        var status: String
        var message: String
    }

    static let cases: [Case] = [
        Case(name: "bad request line", request: "GARBAGE\r\n\r\n",
             status: "HTTP/1.1 400 Bad Request", message: "malformed request line"),
        Case(name: "binary junk", request: "\u{01}\u{02}\u{03} / HTTP/1.1\r\n\r\n",
             status: "HTTP/1.1 400 Bad Request", message: "malformed request line"),
        Case(name: "bad Content-Length", request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
             status: "HTTP/1.1 400 Bad Request", message: "invalid Content-Length header"),
        Case(name: "Content-Length with Transfer-Encoding",
             request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             status: "HTTP/1.1 400 Bad Request", message: "Transfer-Encoding"),
        Case(name: "bad chunk size", request: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
             status: "HTTP/1.1 400 Bad Request", message: "malformed chunked body: invalid chunk size"),
        Case(name: "bad percent-encoding", request: "GET /containers/%zz/json HTTP/1.1\r\nHost: x\r\n\r\n",
             status: "HTTP/1.1 400 Bad Request", message: "invalid percent-encoding"),
        Case(name: "HTTP/2 preface", request: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
             status: "HTTP/1.1 400 Bad Request", message: "HTTP/2 is not served here"),
        Case(name: "header too large", request: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 70 * 1024))\r\n\r\n",
             status: "HTTP/1.1 431 Request Header Fields Too Large", message: "request header is too large (the limit is 65536 bytes)"),
        Case(name: "too many small headers", request: "GET / HTTP/1.1\r\n" + (0..<3000).map { "X-H\($0): \(String(repeating: "v", count: 20))\r\n" }.joined() + "\r\n",
             status: "HTTP/1.1 431 Request Header Fields Too Large", message: "request header is too large"),
    ]

    struct Answer: Decodable {
        var status: String
        var body: String
        var closed: Bool
    }

    @Test("each malformed request gets its status and a JSON message, then the connection closes", arguments: cases)
    func malformed(_ testCase: Case) async throws {
        try await withServer({ request, response in
            let body = try await request.body.collect(upTo: 1 << 20)
            try await response.send(body: body)
        }) { _, socket in
            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            try:
                s.sendall(sys.argv[2].encode("latin-1"))
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                out = read_all(s)
            except ConnectionResetError:
                out = b""
            head, _, body = out.partition(b"\\r\\n\\r\\n")
            print(json.dumps({"status": head.split(b"\\r\\n")[0].decode(), "body": body.decode(), "closed": True}))
            """, [socket, testCase.request])
            let answer = try JSONDecoder().decode(Answer.self, from: py.stdout)
            #expect(answer.status == testCase.status, "\(testCase.name)")
            let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: String]
            let message = try #require(json?["message"], "\(testCase.name): body \(answer.body)")
            #expect(message.contains(testCase.message), "\(testCase.name): \(message)")

            // The server is still fine.
            let again = try await HTTPUnixClient(socketPath: socket).send(
                HTTPClientRequest(method: "POST", target: "/", body: .bytes(ByteBuffer(string: "alive")))
            )
            #expect(try await text(of: again.body) == "alive")
        }
    }

    @Test("a malformed request pipelined behind a good one: the good one is answered first")
    func pipelinedMalformed() async throws {
        try await withServer(reply("good")) { _, socket in
            let py = try await python(pythonPrelude + """
            out = raw(sys.argv[1], b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nBROKEN\\r\\n\\r\\n")
            print(json.dumps(out.decode()))
            """, [socket])
            let answer = try JSONDecoder().decode(String.self, from: py.stdout)
            let responses = answer.components(separatedBy: "HTTP/1.1 ")
            #expect(responses.count == 3)
            #expect(responses[1].hasPrefix("200 OK") && responses[1].hasSuffix("good"))
            #expect(responses[2].hasPrefix("400 Bad Request"))
        }
    }
}
