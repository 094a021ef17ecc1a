import Foundation
import MoorHTTP
import NIOCore
import Testing

@Suite("Socket file, startup and graceful shutdown", .timeLimit(.minutes(2)))
struct ServerLifecycleTests {
    func fileInfo(_ path: String) throws -> stat {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw TestFailure("lstat \(path): errno \(errno)") }
        return info
    }

    @Test("the socket is mode 0660, group root when the configured group does not exist")
    func modeAndMissingGroup() async throws {
        try await withServer(configure: { $0.socketGroup = "moor-no-such-group-\(getpid())" }, reply("x")) { _, socket in
            let info = try fileInfo(socket)
            #expect(info.st_mode & S_IFMT == S_IFSOCK)
            #expect(info.st_mode & 0o777 == 0o660)
            #expect(info.st_gid == 0)
        }
    }

    @Test("the socket gets the configured group when it exists")
    func existingGroup() async throws {
        guard let entry = getgrnam("daemon") else { return }
        let gid = entry.pointee.gr_gid
        try await withServer(configure: { $0.socketGroup = "daemon" }, reply("x")) { _, socket in
            let info = try fileInfo(socket)
            #expect(info.st_gid == gid)
        }
    }

    @Test("a stale socket file (its server died) is replaced")
    func staleSocket() async throws {
        let directory = try TempDirectory()
        let path = directory.path + "/moor.sock"
        _ = try await python("""
        import socket, sys
        s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.close()
        """, [path])
        #expect(try fileInfo(path).st_mode & S_IFMT == S_IFSOCK)
        let server = HTTPServer(configuration: .init(socketPath: path), responder: HTTPClosureResponder(reply("fresh")))
        try await server.start()
        let response = try await HTTPUnixClient(socketPath: path).send(HTTPClientRequest(target: "/"))
        #expect(try await text(of: response.body) == "fresh")
        await server.shutdown()
    }

    @Test("a socket another server listens on is refused, and that server keeps serving")
    func liveSocket() async throws {
        try await withServer(reply("first")) { _, socket in
            let second = HTTPServer(configuration: .init(socketPath: socket), responder: HTTPClosureResponder(reply("second")))
            do {
                try await second.start()
                Issue.record("the second server started")
                await second.shutdown()
            } catch let error as HTTPError {
                #expect(error.code == .socketInUse)
                #expect(error.description.contains(socket))
            }
            let response = try await HTTPUnixClient(socketPath: socket).send(HTTPClientRequest(target: "/"))
            #expect(try await text(of: response.body) == "first")
        }
    }

    @Test("a path that is not a socket is left alone")
    func notASocket() async throws {
        let directory = try TempDirectory()
        let path = directory.path + "/moor.sock"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("keep me".utf8)))
        let server = HTTPServer(configuration: .init(socketPath: path), responder: HTTPClosureResponder(reply("x")))
        do {
            try await server.start()
            Issue.record("started over a regular file")
            await server.shutdown()
        } catch let error as HTTPError {
            #expect(error.code == .socketSetup)
        }
        #expect(FileManager.default.contents(atPath: path) == Data("keep me".utf8))
    }

    @Test("shutdown lets an in-flight request finish, refuses new ones, removes the socket file")
    func gracefulShutdown() async throws {
        let directory = try TempDirectory()
        let path = directory.path + "/moor.sock"
        let started = Gate()
        let release = Gate()
        var configuration = HTTPServer.Configuration(socketPath: path)
        configuration.shutdownGracePeriod = .seconds(30)
        let server = HTTPServer(configuration: configuration, responder: HTTPClosureResponder { _, response in
            started.open()
            await release.wait()
            try await response.send(body: ByteBuffer(string: "finished"))
        })
        try await server.start()
        let client = HTTPUnixClient(socketPath: path)
        async let inFlight = client.send(HTTPClientRequest(target: "/slow"))
        await started.wait()
        async let stopped: Void = server.shutdown()
        // The listening socket goes first.
        while FileManager.default.fileExists(atPath: path) { try await Task.sleep(for: .milliseconds(5)) }
        do {
            _ = try await client.send(HTTPClientRequest(target: "/new"))
            Issue.record("a new connection was accepted during shutdown")
        } catch let error as HTTPError {
            #expect(error.code == .connectionFailed)
        }
        release.open()
        let response = try await inFlight
        #expect(response.headers["connection"] == "close")
        #expect(try await text(of: response.body) == "finished")
        await stopped
        #expect(server.connectionCount == 0)
    }

    @Test("shutdown closes streams that never end once the grace period is over")
    func shutdownClosesEndlessStreams() async throws {
        let directory = try TempDirectory()
        let path = directory.path + "/moor.sock"
        let streaming = Gate()
        var configuration = HTTPServer.Configuration(socketPath: path)
        configuration.shutdownGracePeriod = .milliseconds(200)
        let server = HTTPServer(configuration: configuration, responder: HTTPClosureResponder { _, response in
            let stream = try await response.startStream()
            streaming.open()
            await response.clientClosed()
            _ = stream
        })
        try await server.start()
        let response = try await HTTPUnixClient(socketPath: path).send(HTTPClientRequest(target: "/events"))
        await streaming.wait()
        await server.shutdown()
        await #expect(throws: HTTPError.self) { try await text(of: response.body) }
    }

    @Test("run() serves until its task is cancelled, then shuts down")
    func runUntilCancelled() async throws {
        let directory = try TempDirectory()
        let path = directory.path + "/moor.sock"
        let server = HTTPServer(configuration: .init(socketPath: path), responder: HTTPClosureResponder(reply("running")))
        let task = Task { try await server.run() }
        while !FileManager.default.fileExists(atPath: path) { try await Task.sleep(for: .milliseconds(5)) }
        let response = try await HTTPUnixClient(socketPath: path).send(HTTPClientRequest(target: "/"))
        #expect(try await text(of: response.body) == "running")
        task.cancel()
        try await task.value
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("shutdown before start, and twice, returns; a stopped server cannot start again")
    func shutdownEdges() async throws {
        let directory = try TempDirectory()
        let never = HTTPServer(configuration: .init(socketPath: directory.path + "/a.sock"), responder: HTTPClosureResponder(reply("x")))
        await never.shutdown()
        await #expect(throws: HTTPError.self) { try await never.start() }

        let server = HTTPServer(configuration: .init(socketPath: directory.path + "/b.sock"), responder: HTTPClosureResponder(reply("x")))
        try await server.start()
        async let first: Void = server.shutdown()
        async let second: Void = server.shutdown()
        _ = await (first, second)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/b.sock"))
    }

    @Test("hundreds of long-lived connections are served at once")
    func manyConnections() async throws {
        let count = 300
        let waiting = Counter()
        let allWaiting = Gate()
        let release = Gate()
        try await withServer({ _, response in
            let stream = try await response.startStream()
            waiting.add(1)
            if waiting.current == count { allWaiting.open() }
            await release.wait()
            try await stream.write(string: "exited")
            try await stream.finish()
        }) { server, socket in
            let client = HTTPUnixClient(socketPath: socket)
            try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<count {
                    group.addTask {
                        do {
                            let response = try await client.send(HTTPClientRequest(method: "POST", target: "/containers/\(index)/wait"))
                            return try await text(of: response.body)
                        } catch {
                            // Fail the test instead of leaving it waiting.
                            allWaiting.open()
                            release.open()
                            throw error
                        }
                    }
                }
                await allWaiting.wait()
                #expect(server.connectionCount == count)
                release.open()
                var finished = 0
                for try await body in group {
                    #expect(body == "exited")
                    finished += 1
                }
                #expect(finished == count)
            }
        }
    }
}
