import Foundation
import MoorHTTP
import NIOCore
import Testing

@Suite("Complete responses, HEAD, keep-alive, errors", .timeLimit(.minutes(2)))
struct ServerResponseTests {
    @Test("a fixed response reaches our client, curl and Python with its headers")
    func fixedResponse() async throws {
        try await withServer({ request, response in
            try await response.send(
                status: .created, headers: ["Content-Type": "text/plain", "X-Path": request.path],
                body: ByteBuffer(string: "hello \(request.query.string("name") ?? "?")")
            )
        }) { _, socket in
            let client = HTTPUnixClient(socketPath: socket)
            let response = try await client.send(HTTPClientRequest(target: "/v1.43/greet?name=moor%20d"))
            #expect(response.status.code == 201)
            #expect(response.headers["x-path"] == "/v1.43/greet")
            #expect(response.headers["content-length"] == "12")
            #expect(try await text(of: response.body) == "hello moor d")

            let curl = try await run("curl", ["-s", "-i", "--unix-socket", socket, "http://moor/x?name=curl"])
            #expect(curl.status == 0)
            #expect(curl.text.hasPrefix("HTTP/1.1 201 Created\r\n"))
            #expect(curl.text.hasSuffix("\r\n\r\nhello curl"))

            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"GET /p?name=py HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            head, body = read_response(s)
            print(head.split("\\r\\n")[0]); print(body.decode())
            """, [socket])
            #expect(py.text == "HTTP/1.1 201 Created\nhello py\n")
        }
    }

    @Test("HEAD gets the headers of the GET, Content-Length included, and no body")
    func head() async throws {
        try await withServer(reply("twelve bytes")) { _, socket in
            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"HEAD / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
            print(json.dumps(read_all(s).decode()))
            """, [socket])
            let answer = try JSONDecoder().decode(String.self, from: py.stdout)
            let parts = answer.components(separatedBy: "HTTP/1.1 200 OK")
            // The HEAD answer is immediately followed by the GET answer: no
            // stray body bytes between them.
            #expect(parts.count == 3)
            #expect(parts[1].contains("Content-Length: 12"))
            #expect(parts[1].hasSuffix("\r\n\r\n"))
            #expect(parts[2].hasSuffix("\r\n\r\ntwelve bytes"))

            let curl = try await run("curl", ["-s", "-I", "--unix-socket", socket, "http://moor/"])
            #expect(curl.text.contains("Content-Length: 12"))

            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(method: "HEAD", target: "/_ping"))
            #expect(response.headers["content-length"] == "12")
            #expect(try await response.body.collect(upTo: 0).readableBytes == 0)
        }
    }

    @Test("keep-alive: two requests on one connection, then Connection: close closes it")
    func keepAlive() async throws {
        let count = Counter()
        try await withServer({ request, response in
            count.add(1)
            try await response.send(body: ByteBuffer(string: "\(request.path) #\(count.current)"))
        }) { _, socket in
            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"GET /one HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            h1, b1 = read_response(s)
            s.sendall(b"GET /two HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
            h2, b2 = read_response(s)
            rest = read_all(s)
            print(b1.decode()); print(b2.decode()); print("close" in h2.lower(), len(rest))
            """, [socket])
            #expect(py.text == "/one #1\n/two #2\nTrue 0\n")
        }
    }

    @Test("pipelined requests in one packet are answered in order")
    func pipelined() async throws {
        let release = Gate()
        try await withServer({ request, response in
            if request.path == "/slow" { await release.wait() }
            try await response.send(body: ByteBuffer(string: request.path))
        }) { _, socket in
            async let py = python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"GET /slow HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /fast HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /last HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
            print(json.dumps(read_all(s).decode()))
            """, [socket])
            try await Task.sleep(for: .milliseconds(100))
            release.open()
            let answer = try JSONDecoder().decode(String.self, from: try await py.stdout)
            let bodies = answer.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix(while: { $0 != "H" }) }
            #expect(bodies == ["/slow", "/fast", "/last"])
        }
    }

    @Test("HTTP/1.0 closes after the response unless it asked for keep-alive")
    func http10() async throws {
        try await withServer(reply("ok")) { _, socket in
            let py = try await python(pythonPrelude + """
            print(json.dumps(raw(sys.argv[1], b"GET / HTTP/1.0\\r\\n\\r\\n").decode()))
            s = connect(sys.argv[1])
            s.sendall(b"GET / HTTP/1.0\\r\\nConnection: keep-alive\\r\\n\\r\\n")
            h, b = read_response(s)
            s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
            h2, b2 = read_response(s)
            print(json.dumps([h, b.decode(), b2.decode()]))
            """, [socket])
            let lines = py.text.split(separator: "\n")
            let first = try JSONDecoder().decode(String.self, from: Data(lines[0].utf8))
            #expect(first.hasSuffix("\r\n\r\nok"))
            let second = try JSONDecoder().decode([String].self, from: Data(lines[1].utf8))
            #expect(second[0].lowercased().contains("connection: keep-alive"))
            #expect(second[1] == "ok" && second[2] == "ok")
        }
    }

    @Test("an error thrown by a responder becomes {\"message\"} with its status, others a 500")
    func thrownErrors() async throws {
        struct NotFound: HTTPStatusError {
            var status: HTTPStatus { .notFound }
            var responseMessage: String { "No such container: web" }
        }
        struct Boom: Error, CustomStringConvertible {
            var description: String { "disk on fire" }
        }
        try await withServer({ request, _ in
            switch request.path {
            case "/missing": throw NotFound()
            case "/param": _ = try request.query.int("tail")
            case "/silent": return
            default: throw Boom()
            }
        }) { _, socket in
            let client = HTTPUnixClient(socketPath: socket)
            let cases: [(String, Int, String)] = [
                ("/missing", 404, "{\"message\":\"No such container: web\"}\n"),
                ("/boom", 500, "{\"message\":\"disk on fire\"}\n"),
                ("/param?tail=x", 400, "{\"message\":\"invalid integer value for query parameter tail: \\\"x\\\"\"}\n"),
                ("/silent", 500, "{\"message\":\"no response was sent for GET /silent\"}\n"),
            ]
            for (target, status, body) in cases {
                let response = try await client.send(HTTPClientRequest(target: target))
                #expect(response.status.code == status, "\(target)")
                #expect(response.headers["content-type"] == "application/json")
                #expect(try await text(of: response.body) == body)
            }
        }
    }

    @Test("a second response to one request is refused with .misuse")
    func doubleResponse() async throws {
        let outcome = SharedString()
        try await withServer({ _, response in
            try await response.send(body: ByteBuffer(string: "first"))
            do {
                try await response.send(body: ByteBuffer(string: "second"))
                outcome.set("sent twice")
            } catch let error as HTTPError {
                outcome.set("\(error.code)")
            }
        }) { _, socket in
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(target: "/"))
            #expect(try await text(of: response.body) == "first")
        }
        #expect(outcome.get() == "misuse")
    }

    @Test("a response header with CR or LF is refused, never written")
    func headerInjection() async throws {
        try await withServer({ _, response in
            do {
                try await response.send(headers: ["X-Bad": "a\r\nSet-Evil: 1"], body: ByteBuffer(string: "x"))
            } catch let error as HTTPError where error.code == .misuse {
                try await response.send(status: .badRequest, body: ByteBuffer(string: "refused"))
            }
        }) { _, socket in
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(target: "/"))
            #expect(response.status.code == 400)
            #expect(!response.headers.contains("set-evil"))
        }
    }

    @Test("Expect: 100-continue gets an interim 100 before the body is sent (curl)")
    func expectContinue() async throws {
        try await withServer({ request, response in
            let body = try await request.body.collect(upTo: 1 << 20)
            try await response.send(body: ByteBuffer(string: "got \(body.readableBytes)"))
        }) { _, socket in
            let py = try await python(pythonPrelude + """
            s = connect(sys.argv[1])
            s.sendall(b"PUT / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nExpect: 100-continue\\r\\n\\r\\n")
            interim = read_head(s)
            s.sendall(b"hello")
            head, body = read_response(s)
            print(interim.split("\\r\\n")[0]); print(body.decode())
            """, [socket])
            #expect(py.text == "HTTP/1.1 100 Continue\ngot 5\n")
        }
    }
}

/// A string a responder sets and the test reads afterwards.
final class SharedString: Sendable {
    private let box = Shared<String>("")
    func set(_ value: String) { box.set(value) }
    func get() -> String { box.get() }
}
