import Foundation
import MoorHTTP
import NIOCore
import Testing

@Suite("Request bodies: chunked, streamed with backpressure, limits", .timeLimit(.minutes(2)))
struct RequestBodyTests {
    /// Answers with the body's length and content.
    static let echo: @Sendable (HTTPRequest, HTTPResponseWriter) async throws -> Void = { request, response in
        let body = try await request.body.collect(upTo: 1 << 20)
        try await response.send(body: ByteBuffer(string: "\(body.readableBytes):\(String(buffer: body))"))
    }

    @Test("a chunked body sent in pieces, with extensions and trailers, arrives whole")
    func chunkedBody() async throws {
        try await withServer(Self.echo) { _, socket in
            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"POST /echo HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n")
            for piece in [b"5\\r\\nhello\\r\\n", b"1;ext=1\\r\\n", b" \\r\\n", b"5\\r\\nworld\\r\\n", b"0\\r\\nX-Trailer: 1\\r\\n\\r\\n"]:
                s.sendall(piece)
                time.sleep(0.01)
            head, body = read_response(s)
            print(body.decode())
            """, [socket])
            #expect(py.text == "11:hello world\n")
        }
    }

    @Test("our client's chunked upload (unknown length) arrives whole")
    func clientChunkedUpload() async throws {
        try await withServer(Self.echo) { _, socket in
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(
                method: "POST", target: "/echo", body: .stream(length: nil) { writer in
                    for word in ["one ", "two ", "three"] { try await writer.write(bytes: Array(word.utf8)) }
                }
            ))
            #expect(try await text(of: response.body) == "13:one two three")
        }
    }

    @Test("a 64 MiB upload streams with backpressure: the sender stalls while the responder does not read")
    func streamingUploadBackpressure() async throws {
        let total = 64 << 20
        let chunk = 64 << 10
        let sent = Counter()
        let received = Counter()
        let firstChunkRead = Gate()
        let goOn = Gate()
        try await withServer({ request, response in
            var iterator = request.body.makeAsyncIterator()
            if let first = try await iterator.next() { received.add(first.readableBytes) }
            firstChunkRead.open()
            await goOn.wait()
            var largest = 0
            while let next = try await iterator.next() {
                received.add(next.readableBytes)
                largest = max(largest, next.readableBytes)
            }
            try await response.send(body: ByteBuffer(string: "\(received.current) \(largest)"))
        }) { _, socket in
            let client = HTTPUnixClient(socketPath: socket)
            let payload = ByteBuffer(repeating: 0x61, count: chunk)
            async let answer = client.send(HTTPClientRequest(
                method: "POST", target: "/images/load", body: .stream(length: total) { writer in
                    for _ in 0..<(total / chunk) {
                        try await writer.write(payload)
                        sent.add(chunk)
                    }
                }
            ))
            await firstChunkRead.wait()
            // Give an unbounded server every chance to swallow the upload.
            try await Task.sleep(for: .milliseconds(500))
            let sentWhileStalled = sent.current
            #expect(sentWhileStalled < 8 << 20, "sent \(sentWhileStalled) bytes while the responder read nothing")
            goOn.open()
            let response = try await answer
            let reply = try await text(of: response.body).split(separator: " ")
            #expect(Int(reply[0]) == total)
            #expect(Int(reply[1]).map { $0 <= 1 << 20 } == true, "chunks stay socket-read sized")
        }
    }

    @Test("collect(upTo:) on a too-large body answers 413; the connection serves the next request")
    func payloadTooLarge() async throws {
        try await withServer({ request, response in
            if request.method == "POST" {
                _ = try await request.body.collect(upTo: 10)
            }
            try await response.send(body: ByteBuffer(string: "fine"))
        }) { _, socket in
            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 100\\r\\n\\r\\n" + b"a" * 100)
            h1, b1 = read_response(s)
            s.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            h2, b2 = read_response(s)
            print(h1.split("\\r\\n")[0]); print(b1.decode().strip()); print(b2.decode())
            """, [socket])
            #expect(py.text == """
            HTTP/1.1 413 Payload Too Large
            {"message":"body is larger than the 10 bytes accepted here"}
            fine

            """)
        }
    }

    @Test("a body the responder never reads is drained so the next request works")
    func unreadBodyDrained() async throws {
        try await withServer(reply("ignored")) { _, socket in
            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n")
            h1, b1 = read_response(s)
            s.sendall(b"3e8\\r\\n" + b"z" * 1000 + b"\\r\\n0\\r\\n\\r\\n")
            s.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            h2, b2 = read_response(s)
            print(b1.decode()); print(b2.decode())
            """, [socket])
            #expect(py.text == "ignored\nignored\n")
        }
    }

    @Test("an unread body beyond the drain limit closes the connection after the response")
    func unreadBodyTooLarge() async throws {
        try await withServer(configure: { $0.maxDiscardedBodySize = 64 << 10 }, reply("early")) { _, socket in
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(
                method: "POST", target: "/", body: .bytes(ByteBuffer(repeating: 1, count: 8 << 20))
            ))
            #expect(response.status.code == 200)
            #expect(response.headers["connection"] == "close")
            #expect(try await text(of: response.body) == "early")
        }
    }

    @Test("a client that disconnects mid-body makes the body throw, not end quietly")
    func truncatedBody() async throws {
        let outcome = Shared("")
        let done = Gate()
        try await withServer({ request, _ in
            do {
                _ = try await request.body.collect(upTo: 1 << 20)
                outcome.set("complete")
            } catch let error as HTTPError {
                outcome.set("\(error.code)")
            }
            done.open()
        }) { _, socket in
            _ = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 1000\\r\\n\\r\\nonly this")
            s.close()
            """, [socket])
            await done.wait()
        }
        #expect(outcome.get() != "complete")
    }
}
