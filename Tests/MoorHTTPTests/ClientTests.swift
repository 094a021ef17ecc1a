import Foundation
import MoorHTTP
import NIOCore
import Testing

/// The client against a small Python server: it is not only tested against
/// our own server.
@Suite("HTTPUnixClient against an independent server", .timeLimit(.minutes(2)))
struct ClientTests {
    static let server = pythonPrelude + """
    import os, hashlib
    path, mode = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path + ".tmp")
    srv.listen(1)
    srv.settimeout(30)
    os.rename(path + ".tmp", path)
    c, _ = srv.accept()
    c.settimeout(30)
    head = read_head(c)
    def body_of(head):
        lower = head.lower()
        if "transfer-encoding: chunked" in lower:
            data = b""
            while True:
                line = b""
                while not line.endswith(b"\\r\\n"):
                    line += c.recv(1)
                size = int(line.split(b";")[0], 16)
                chunk = b""
                while len(chunk) < size + 2:
                    chunk += c.recv(size + 2 - len(chunk))
                if size == 0:
                    return data
                data += chunk[:-2]
        length = 0
        for line in head.split("\\r\\n")[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        data = b""
        while len(data) < length:
            data += c.recv(min(65536, length - len(data)))
        return data
    body = body_of(head)
    if mode == "until-close":
        c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nstreamed ")
        time.sleep(0.05)
        c.sendall(b"until close")
        c.close()
    elif mode == "chunked":
        for piece in [b"HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhel", b"lo\\r\\n7\\r\\n worl", b"d!\\r\\n0\\r\\n\\r\\n"]:
            c.sendall(piece)
            time.sleep(0.02)
        c.close()
    elif mode == "upload":
        answer = json.dumps({"sha": hashlib.sha256(body).hexdigest(), "length": len(body), "head": head}).encode()
        c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(answer) + answer)
        c.close()
    elif mode in ("hijack200", "hijack101"):
        status = b"200 OK" if mode == "hijack200" else b"101 UPGRADED\\r\\nConnection: Upgrade\\r\\nUpgrade: tcp"
        c.sendall(b"HTTP/1.1 " + status + b"\\r\\nContent-Type: application/vnd.docker.raw-stream\\r\\n\\r\\nEARLY|" + body + b"|")
        stdin = read_all(c)
        c.sendall(b"ECHO:" + stdin)
        c.close()
    print(json.dumps(head))
    """

    /// Runs the Python server in `mode`, calls `body` once it listens, and
    /// returns the request head the server received.
    func withPythonServer(_ mode: String, _ body: (String) async throws -> Void) async throws -> String {
        let directory = try TempDirectory()
        let socket = directory.path + "/py.sock"
        async let server = python(Self.server, [socket, mode])
        while !FileManager.default.fileExists(atPath: socket) {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await body(socket)
        let result = try await server
        return try JSONDecoder().decode(String.self, from: result.stdout)
    }

    @Test("a body without length is read until the server closes")
    func readUntilClose() async throws {
        let head = try await withPythonServer("until-close") { socket in
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(target: "/v1.43/version"))
            #expect(response.status == .ok)
            #expect(response.headers["content-type"] == "text/plain")
            #expect(try await text(of: response.body) == "streamed until close")
        }
        #expect(head.hasPrefix("GET /v1.43/version HTTP/1.1\r\n"))
        #expect(head.lowercased().contains("host: moor"))
    }

    @Test("a chunked body split at odd places is decoded")
    func chunkedResponse() async throws {
        _ = try await withPythonServer("chunked") { socket in
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(target: "/events"))
            #expect(try await text(of: response.body) == "hello world!")
        }
    }

    @Test("a file is uploaded with its Content-Length, streamed from disk")
    func fileUpload() async throws {
        let directory = try TempDirectory()
        let file = directory.path + "/image.tar"
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 9) }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let expectedSHA = try await run("sha256sum", [file]).text.split(separator: " ")[0]
        _ = try await withPythonServer("upload") { socket in
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(
                method: "POST", target: "/images/load?quiet=1", headers: ["Content-Type": "application/x-tar"],
                body: .file(path: file)
            ))
            struct Upload: Decodable { var sha: String; var length: Int; var head: String }
            let upload = try JSONDecoder().decode(Upload.self, from: Data(try await text(of: response.body).utf8))
            #expect(upload.length == bytes.count)
            #expect(upload.sha == String(expectedSHA))
            #expect(upload.head.contains("Content-Length: \(bytes.count)"))
            #expect(!upload.head.lowercased().contains("transfer-encoding"))
        }
    }

    @Test("a streamed upload of unknown length is sent chunked")
    func chunkedUpload() async throws {
        _ = try await withPythonServer("upload") { socket in
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(
                method: "POST", target: "/images/create?fromSrc=-", body: .stream(length: nil) { writer in
                    for _ in 0..<10 { try await writer.write(ByteBuffer(repeating: 0x42, count: 1000)) }
                }
            ))
            struct Upload: Decodable { var length: Int; var head: String }
            let upload = try JSONDecoder().decode(Upload.self, from: Data(try await text(of: response.body).utf8))
            #expect(upload.length == 10_000)
            #expect(upload.head.lowercased().contains("transfer-encoding: chunked"))
        }
    }

    @Test("hijack answered 200 with stream bytes in the same packet as the head", arguments: ["hijack200", "hijack101"])
    func hijack(_ mode: String) async throws {
        let head = try await withPythonServer(mode) { socket in
            let outcome = try await HTTPUnixClient(socketPath: socket).hijack(
                .json(target: "/exec/e1/start", Array("{\"Tty\":true}".utf8))
            )
            guard case let .hijacked(status, _, stream) = outcome else {
                Issue.record("not hijacked")
                return
            }
            #expect(status.code == (mode == "hijack200" ? 200 : 101))
            try await stream.output.write(string: "stdin data")
            try await stream.output.closeWrite()
            #expect(try await text(of: stream.input) == "EARLY|{\"Tty\":true}|ECHO:stdin data")
        }
        #expect(head.contains("Connection: Upgrade"))
        #expect(head.contains("Upgrade: tcp"))
    }

    @Test("no daemon: a clear connection error naming the socket")
    func noDaemon() async throws {
        let directory = try TempDirectory()
        let socket = directory.path + "/absent.sock"
        do {
            _ = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(target: "/_ping"))
            Issue.record("connected to nothing")
        } catch let error as HTTPError {
            #expect(error.code == .connectionFailed)
            #expect(error.description.contains(socket))
        }
    }

    @Test("a missing upload file fails before connecting, naming the file")
    func missingFile() async throws {
        do {
            _ = try await HTTPUnixClient(socketPath: "/nonexistent.sock").send(HTTPClientRequest(
                method: "POST", target: "/images/load", body: .file(path: "/nonexistent/image.tar")
            ))
            Issue.record("no error")
        } catch let error as HTTPError {
            #expect(error.code == .localFile)
            #expect(error.description.contains("/nonexistent/image.tar"))
        }
    }
}
