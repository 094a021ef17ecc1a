import Foundation
import MoorHTTP
import NIOCore
import Testing

@Suite("Hijacked connections (attach, exec start)", .timeLimit(.minutes(2)))
struct HijackTests {
    /// Reads stdin to its end, then answers with what it got and 200 more
    /// lines: output that must keep flowing after the client half-closed.
    static let attach: @Sendable (HTTPRequest, HTTPResponseWriter) async throws -> Void = { request, response in
        var prefix = ""
        if request.path.hasSuffix("/start") {
            let body = try await request.body.collect(upTo: 4096)
            prefix = "body:\(String(buffer: body)) "
        }
        if request.path.hasSuffix("/missing/attach") {
            try await response.sendError(status: .notFound, message: "No such container: missing")
            return
        }
        let stream = try await response.hijack(contentType: "application/vnd.docker.multiplexed-stream")
        var stdin = ByteBuffer()
        for try await var chunk in stream.input { stdin.writeBuffer(&chunk) }
        try await stream.output.write(string: "\(prefix)got:\(String(buffer: stdin))\n")
        for line in 0..<200 { try await stream.output.write(string: "line \(line)\n") }
        await stream.output.finish()
    }

    static let expectedTail = (0..<200).map { "line \($0)\n" }.joined()

    static let client = pythonPrelude + """
    def hijack(path, request, stdin, shutdown_first=False):
        s = connect(path)
        s.sendall(request + stdin)
        if shutdown_first:
            s.shutdown(socket.SHUT_WR)
        head = read_head(s)
        if not shutdown_first:
            s.shutdown(socket.SHUT_WR)
        out = read_all(s)
        print(json.dumps({"head": head, "out": out.decode()}))

    """

    struct Answer: Decodable {
        var head: String
        var out: String
    }

    func hijack(_ socket: String, request: String, stdin: String, shutdownFirst: Bool = false) async throws -> Answer {
        let script = Self.client + """
        hijack(sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(), sys.argv[4] == "1")
        """
        let result = try await python(script, [socket, request, stdin, shutdownFirst ? "1" : "0"])
        return try JSONDecoder().decode(Answer.self, from: result.stdout)
    }

    static let upgradeHeaders = "Host: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"

    @Test("Upgrade: tcp gets 101 UPGRADED; stdin bytes sent with the request head are not lost; output flows after the half-close")
    func upgrade101() async throws {
        try await withServer(Self.attach) { _, socket in
            let answer = try await hijack(
                socket,
                request: "POST /v1.43/containers/c1/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\n\(Self.upgradeHeaders)\r\n",
                stdin: "typed ahead"
            )
            let lines = answer.head.components(separatedBy: "\r\n")
            #expect(lines[0] == "HTTP/1.1 101 UPGRADED")
            #expect(lines.contains("Connection: Upgrade"))
            #expect(lines.contains("Upgrade: tcp"))
            #expect(lines.contains("Content-Type: application/vnd.docker.multiplexed-stream"))
            #expect(answer.out == "got:typed ahead\n" + Self.expectedTail)
        }
    }

    @Test("without Upgrade headers the hijack answers 200 OK, then the raw stream")
    func plain200() async throws {
        try await withServer(Self.attach) { _, socket in
            let answer = try await hijack(
                socket, request: "POST /containers/c1/attach?stream=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                stdin: ""
            )
            let lines = answer.head.components(separatedBy: "\r\n")
            #expect(lines[0] == "HTTP/1.1 200 OK")
            #expect(!lines.contains("Upgrade: tcp"))
            #expect(lines.contains("Content-Type: application/vnd.docker.multiplexed-stream"))
            #expect(answer.out == "got:\n" + Self.expectedTail)
        }
    }

    @Test("exec start: the JSON body is read, stdin pipelined behind it reaches the stream")
    func execStartWithBody() async throws {
        try await withServer(Self.attach) { _, socket in
            let body = "{\"Detach\":false,\"Tty\":false}"
            let answer = try await hijack(
                socket,
                request: "POST /v1.43/exec/e1/start HTTP/1.1\r\n\(Self.upgradeHeaders)Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)",
                stdin: "stdin after body"
            )
            #expect(answer.head.hasPrefix("HTTP/1.1 101 UPGRADED\r\n"))
            #expect(answer.out == "body:\(body) got:stdin after body\n" + Self.expectedTail)
        }
    }

    @Test("a client that half-closes before the 101 still gets the whole output")
    func halfCloseBeforeHijack() async throws {
        try await withServer(Self.attach) { _, socket in
            let answer = try await hijack(
                socket, request: "POST /containers/c1/attach HTTP/1.1\r\n\(Self.upgradeHeaders)\r\n",
                stdin: "early", shutdownFirst: true
            )
            #expect(answer.head.hasPrefix("HTTP/1.1 101 UPGRADED\r\n"))
            #expect(answer.out == "got:early\n" + Self.expectedTail)
        }
    }

    @Test("an upgrade request answered without hijack gets its error, then the connection closes")
    func refusedUpgrade() async throws {
        try await withServer(Self.attach) { _, socket in
            let answer = try await hijack(
                socket, request: "POST /containers/missing/attach HTTP/1.1\r\n\(Self.upgradeHeaders)\r\n", stdin: ""
            )
            #expect(answer.head.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
            #expect(answer.head.contains("Connection: close"))
            #expect(answer.out == "{\"message\":\"No such container: missing\"}\n")
        }
    }

    @Test("a hijacked stream is interactive both ways (a TTY session)")
    func interactive() async throws {
        try await withServer({ _, response in
            let stream = try await response.hijack()
            for try await chunk in stream.input {
                try await stream.output.write(string: "echo:" + String(buffer: chunk))
            }
            await stream.output.finish()
        }) { _, socket in
            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"POST /containers/c/attach HTTP/1.1\\r\\nHost: x\\r\\nConnection: Upgrade\\r\\nUpgrade: tcp\\r\\n\\r\\n")
            read_head(s)
            for word in [b"ls", b"pwd", b"exit"]:
                s.sendall(word)
                expected = b"echo:" + word
                got = b""
                while len(got) < len(expected):
                    got += s.recv(len(expected) - len(got))
                print(got.decode())
            s.shutdown(socket.SHUT_WR)
            print(len(read_all(s)))
            """, [socket])
            #expect(py.text == "echo:ls\necho:pwd\necho:exit\n0\n")
        }
    }

    @Test("our client hijacks: writes stdin, half-closes, reads all output; a refusal carries the message")
    func clientHijack() async throws {
        try await withServer(Self.attach) { _, socket in
            let client = HTTPUnixClient(socketPath: socket)
            let outcome = try await client.hijack(HTTPClientRequest(method: "POST", target: "/containers/c1/attach?stdin=1"))
            guard case let .hijacked(status, headers, stream) = outcome else {
                Issue.record("not hijacked: \(outcome)")
                return
            }
            #expect(status.code == 101)
            #expect(headers["upgrade"] == "tcp")
            try await stream.output.write(string: "from moor")
            try await stream.output.closeWrite()
            let output = try await text(of: stream.input)
            #expect(output == "got:from moor\n" + Self.expectedTail)

            let refused = try await client.hijack(HTTPClientRequest(method: "POST", target: "/containers/missing/attach"))
            guard case let .refused(response) = refused else {
                Issue.record("expected a refusal")
                return
            }
            #expect(response.status.code == 404)
            #expect(try await text(of: response.body) == "{\"message\":\"No such container: missing\"}\n")
        }
    }

    @Test("a hijack asked for before the body was read drops the body and starts the stream after it")
    func hijackBeforeBodyRead() async throws {
        try await withServer({ _, response in
            let stream = try await response.hijack()
            var stdin = ByteBuffer()
            for try await var chunk in stream.input { stdin.writeBuffer(&chunk) }
            try await stream.output.write(string: "stdin=" + String(buffer: stdin))
            await stream.output.finish()
        }) { _, socket in
            let answer = try await hijack(
                socket,
                request: "POST /exec/e/start HTTP/1.1\r\n\(Self.upgradeHeaders)Content-Length: 9\r\n\r\n{\"a\":\"b\"}",
                stdin: "raw"
            )
            #expect(answer.out == "stdin=raw")
        }
    }

    @Test("the responder's return ends the session even if it did not finish the output")
    func responderReturnCloses() async throws {
        try await withServer({ _, response in
            let stream = try await response.hijack()
            try await stream.output.write(string: "bye")
        }) { _, socket in
            let answer = try await hijack(
                socket, request: "POST /containers/c/attach HTTP/1.1\r\n\(Self.upgradeHeaders)\r\n", stdin: ""
            )
            #expect(answer.out == "bye")
        }
    }
}
