import Foundation
import MoorHTTP
import NIOCore
import Testing

/// The real docker CLI and docker-py against a tiny fake engine: proves the
/// server's framing, hijack and half-close handling with the clients moor
/// must serve. Skipped where they are not installed (the machine's CI image
/// has both; see the report on installing them).
@Suite("Real Docker clients against MoorHTTP", .timeLimit(.minutes(2)))
struct DockerClientTests {
    static let dockerCLI = FileManager.default.isExecutableFile(atPath: "/usr/local/bin/docker")
        || FileManager.default.isExecutableFile(atPath: "/usr/bin/docker")

    /// A minimal engine: ping, version, container inspect, exec create, exec start (hijacked,
    /// multiplexed, stdin echoed after its EOF), exec inspect.
    static let engine: @Sendable (HTTPRequest, HTTPResponseWriter) async throws -> Void = { request, response in
        var path = request.path
        if path.hasPrefix("/v"), let slash = path.dropFirst().firstIndex(of: "/") { path = String(path[slash...]) }
        switch (request.method, path) {
        case (_, "/_ping"):
            try await response.send(
                headers: ["API-Version": "1.41", "OSType": "linux", "Docker-Experimental": "false",
                          "Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"],
                body: ByteBuffer(string: "OK")
            )
        case ("GET", "/version"):
            try await response.sendJSON(Array(#"{"ApiVersion":"1.41","MinAPIVersion":"1.24","Os":"linux","Version":"0.0-moor"}"#.utf8))
        case ("GET", "/containers/c1/json"):
            try await response.sendJSON(Array(#"{"Id":"c1","State":{"Running":true,"Status":"running"},"Config":{"Tty":false}}"#.utf8))
        case ("POST", "/containers/c1/exec"):
            _ = try await request.body.collect(upTo: 1 << 16)
            try await response.sendJSON(status: .created, Array(#"{"Id":"e1"}"#.utf8))
        case ("POST", "/exec/e1/start"):
            _ = try await request.body.collect(upTo: 1 << 16)
            let stream = try await response.hijack(contentType: "application/vnd.docker.multiplexed-stream")
            var stdin = ByteBuffer()
            for try await var chunk in stream.input { stdin.writeBuffer(&chunk) }
            try await stream.output.write(frame(1, "out:" + String(buffer: stdin)))
            try await stream.output.write(frame(2, "err line\n"))
            await stream.output.finish()
        case ("GET", "/exec/e1/json"):
            try await response.sendJSON(Array(#"{"ID":"e1","Running":false,"ExitCode":3,"Pid":0}"#.utf8))
        default:
            try await response.sendError(status: .notFound, message: "fake engine: no route for \(request.method) \(path)")
        }
    }

    static func frame(_ stream: UInt8, _ text: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeBytes([stream, 0, 0, 0])
        buffer.writeInteger(UInt32(text.utf8.count))
        buffer.writeString(text)
        return buffer
    }

    @Test("docker exec -i: stdin reaches the hijacked stream, output after its EOF, exit code from inspect",
          .enabled(if: dockerCLI))
    func dockerExec() async throws {
        try await withServer(Self.engine) { _, socket in
            let result = try await run(
                "docker", ["exec", "-i", "c1", "cat"], stdin: Data("typed into docker".utf8),
                environment: ["DOCKER_HOST": "unix://\(socket)", "DOCKER_CONFIG": "/nonexistent-moor-test"]
            )
            #expect(result.text == "out:typed into docker", "stderr: \(result.stderr)")
            #expect(result.stderr.contains("err line"))
            #expect(result.status == 3)
        }
    }

    @Test("docker-py: ping, version, and a hijacked exec socket with half-close")
    func dockerPy() async throws {
        try await withServer(Self.engine) { _, socket in
            let py = try await python("""
            import sys, socket
            try:
                import docker
            except ImportError:
                print("docker-py is not installed"); sys.exit(0)
            client = docker.APIClient(base_url="unix://" + sys.argv[1], version="auto")
            print(client.ping())
            print(client.version()["ApiVersion"])
            exec_id = client.exec_create("c1", "cat", stdin=True)["Id"]
            sock = client.exec_start(exec_id, socket=True)
            raw = sock._sock
            raw.sendall(b"from docker-py")
            raw.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = raw.recv(65536)
                if not chunk:
                    break
                data += chunk
            print(repr(data))
            print(client.exec_inspect(exec_id)["ExitCode"])
            """, [socket])
            if py.text.hasPrefix("docker-py is not installed") { return }
            #expect(py.text == """
            True
            1.41
            b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x12out:from docker-py\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\terr line\\n'
            3

            """)
        }
    }
}
