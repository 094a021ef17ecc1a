import Foundation
import MoorHTTP
import NIOCore
import Testing

@Suite("Streamed responses and client disconnects", .timeLimit(.minutes(2)))
struct StreamedResponseTests {
    @Test("the head of a streamed response arrives before the first chunk (our client)")
    func headBeforeChunks() async throws {
        let release = Gate()
        try await withServer({ _, response in
            let stream = try await response.startStream(headers: ["Content-Type": "application/json"])
            await release.wait()
            for word in ["{\"StatusCode\":", "0}", "\n"] { try await stream.write(string: word) }
            try await stream.finish()
        }) { _, socket in
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(
                method: "POST", target: "/containers/x/wait?condition=next-exit"
            ))
            // The responder has not written a byte of body yet.
            #expect(!release.isOpen)
            #expect(response.status.code == 200)
            #expect(response.headers["transfer-encoding"] == "chunked")
            release.open()
            #expect(try await text(of: response.body) == "{\"StatusCode\":0}\n")
        }
    }

    @Test("the head arrives before the first chunk (Python: reads the head, then releases the stream)")
    func headBeforeChunksPython() async throws {
        let release = Gate()
        try await withServer({ request, response in
            if request.path == "/release" {
                release.open()
                try await response.send(status: .noContent)
                return
            }
            let stream = try await response.startStream()
            await release.wait()
            try await stream.write(string: "after release")
            try await stream.finish()
        }) { _, socket in
            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"GET /events HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            head = read_head(s)
            print(head.split("\\r\\n")[0])
            raw(sys.argv[1], b"GET /release HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
            body = b""
            while True:
                size_line = b""
                while not size_line.endswith(b"\\r\\n"):
                    size_line += s.recv(1)
                size = int(size_line.strip(), 16)
                data = b""
                while len(data) < size + 2:
                    data += s.recv(size + 2 - len(data))
                if size == 0:
                    break
                body += data[:-2]
            print(body.decode())
            """, [socket])
            #expect(py.text == "HTTP/1.1 200 OK\nafter release\n")
        }
    }

    @Test("a client that goes away is noticed: signal, cancellation, failing writes")
    func clientDisconnect() async throws {
        let noticed = Shared<[String]>([])
        let allNoticed = Gate()
        let record: @Sendable (String) -> Void = { what in
            let count = noticed.update { $0.append(what); return $0.count }
            if count == 3 { allNoticed.open() }
        }
        try await withServer({ request, response in
            let stream = try await response.startStream()
            switch request.path {
            case "/signal":
                await response.clientClosed()
                record("signal")
            case "/cancel":
                // Waits forever unless its task is cancelled.
                let (never, _) = AsyncStream<Int>.makeStream()
                for await _ in never {}
                record(Task.isCancelled ? "cancelled" : "ended?")
            default:
                do {
                    while true {
                        try await stream.write(string: "tick\n")
                        try await Task.sleep(for: .milliseconds(5))
                    }
                } catch {
                    record("write failed")
                }
            }
        }) { _, socket in
            let client = HTTPUnixClient(socketPath: socket)
            for path in ["/signal", "/cancel"] {
                let response = try await client.send(HTTPClientRequest(target: path))
                #expect(response.status.code == 200)
                // Dropping the response closes the connection.
            }
            _ = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"GET /writes HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            read_head(s)
            s.recv(5)
            s.close()
            """, [socket])
            await allNoticed.wait()
        }
        #expect(Set(noticed.get()) == ["signal", "cancelled", "write failed"])
    }

    @Test("an HTTP/1.0 client gets the stream unchunked, ended by close")
    func http10Stream() async throws {
        try await withServer({ _, response in
            let stream = try await response.startStream()
            try await stream.write(string: "part1 ")
            try await stream.write(string: "part2")
        }) { _, socket in
            let py = try await python(pythonPrelude + """
            print(json.dumps(raw(sys.argv[1], b"GET / HTTP/1.0\\r\\n\\r\\n").decode()))
            """, [socket])
            let answer = try JSONDecoder().decode(String.self, from: py.stdout)
            #expect(!answer.lowercased().contains("transfer-encoding"))
            #expect(answer.hasSuffix("\r\n\r\npart1 part2"))
        }
    }

    @Test("HEAD on a streamed response sends the head only; the connection stays usable")
    func headOnStream() async throws {
        try await withServer({ _, response in
            let stream = try await response.startStream()
            try await stream.write(string: "body")
            try await stream.finish()
        }) { _, socket in
            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"HEAD / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            h = read_head(s)
            s.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
            rest = read_all(s)
            print(rest.split(b"\\r\\n")[0].decode()); print(rest.endswith(b"4\\r\\nbody\\r\\n0\\r\\n\\r\\n"))
            """, [socket])
            #expect(py.text == "HTTP/1.1 200 OK\nTrue\n")
        }
    }

    @Test("an error after the head closes the connection: the client sees a truncated body")
    func errorAfterHead() async throws {
        struct Broken: Error {}
        try await withServer({ _, response in
            let stream = try await response.startStream()
            try await stream.write(string: "partial")
            throw Broken()
        }) { _, socket in
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(target: "/"))
            #expect(response.status.code == 200)
            await #expect(throws: HTTPError.self) { try await text(of: response.body) }
        }
    }
}
