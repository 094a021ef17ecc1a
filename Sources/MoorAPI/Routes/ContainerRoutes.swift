import Foundation
import MoorEngine
import MoorHTTP
import MoorPluginKit
import NIOCore

/// `/containers/...`
enum ContainerRoutes {
    static let routes: [Route] = [
        Route("POST", "/containers/create", create),
        Route("GET", "/containers/json", list),
        Route("POST", "/containers/prune", prune),
        Route("GET", "/containers/{id}/json", inspect),
        Route("POST", "/containers/{id}/start", start),
        Route("POST", "/containers/{id}/stop", stop),
        Route("POST", "/containers/{id}/kill", kill),
        Route("POST", "/containers/{id}/restart", restart),
        Route("POST", "/containers/{id}/pause", pause),
        Route("POST", "/containers/{id}/unpause", unpause),
        Route("POST", "/containers/{id}/wait", wait),
        Route("POST", "/containers/{id}/attach", attach),
        Route("GET", "/containers/{id}/logs", logs),
        Route("GET", "/containers/{id}/top", top),
        Route("POST", "/containers/{id}/rename", rename),
        Route("POST", "/containers/{id}/resize", resize),
        Route("DELETE", "/containers/{id}", remove),
    ]

    static func create(_ r: APIRequest) async throws {
        let request = try await r.decode(ContainerCreateRequest.self)
        let created = try await r.engine.createContainer(name: r.query.string("name"), request: request)
        try await r.send(["Id": .string(created.id), "Warnings": .strings(created.warnings)], status: .created)
    }

    static func list(_ r: APIRequest) async throws {
        let views = try await r.engine.listContainers(all: r.bool("all"), limit: try r.int("limit"), filters: try r.filters())
        try await r.send(.array(views.map(ContainerRender.summary)))
    }

    static func inspect(_ r: APIRequest) async throws {
        try await r.send(ContainerRender.inspect(try await r.engine.inspectContainer(r.param("id"))))
    }

    static func start(_ r: APIRequest) async throws {
        _ = try? await r.http.body.discard()
        try await r.engine.startContainer(r.param("id"))
        try await r.noContent()
    }

    static func stop(_ r: APIRequest) async throws {
        try await r.engine.stopContainer(r.param("id"), timeout: try r.int("t"), signal: r.query.string("signal"))
        try await r.noContent()
    }

    static func kill(_ r: APIRequest) async throws {
        try await r.engine.killContainer(r.param("id"), signal: r.query.string("signal"))
        try await r.noContent()
    }

    static func restart(_ r: APIRequest) async throws {
        try await r.engine.restartContainer(r.param("id"), timeout: try r.int("t"), signal: r.query.string("signal"))
        try await r.noContent()
    }

    static func pause(_ r: APIRequest) async throws {
        try await r.engine.pauseContainer(r.param("id"))
        try await r.noContent()
    }

    static func unpause(_ r: APIRequest) async throws {
        try await r.engine.unpauseContainer(r.param("id"))
        try await r.noContent()
    }

    static func remove(_ r: APIRequest) async throws {
        try await r.engine.removeContainer(r.param("id"), force: r.bool("force"))
        try await r.noContent()
    }

    static func rename(_ r: APIRequest) async throws {
        guard let name = r.query.string("name"), !name.isEmpty else { throw APIError(400, "rename: a new name is required") }
        try await r.engine.renameContainer(r.param("id"), to: name)
        try await r.noContent()
    }

    static func resize(_ r: APIRequest) async throws {
        try await r.engine.resizeContainer(r.param("id"), height: try r.int("h") ?? 0, width: try r.int("w") ?? 0)
        try await r.response.send(status: .ok)
    }

    static func top(_ r: APIRequest) async throws {
        let result = try await r.engine.top(r.param("id"), psArgs: r.query.string("ps_args"))
        try await r.send(["Titles": .strings(result.titles), "Processes": .array(result.processes.map { .strings($0) })])
    }

    static func prune(_ r: APIRequest) async throws {
        let result = try await r.engine.pruneContainers(filters: try r.filters())
        try await r.send(["ContainersDeleted": .strings(result.deleted), "SpaceReclaimed": .number(result.reclaimed)])
    }

    /// Headers go out at once (docker run registers its wait before start);
    /// the body follows when the condition is met.
    static func wait(_ r: APIRequest) async throws {
        let raw = r.query.string("condition") ?? ""
        let condition: WaitCondition
        if raw.isEmpty {
            condition = .notRunning
        } else if let parsed = WaitCondition(rawValue: raw) {
            condition = parsed
        } else {
            throw APIError(400, "invalid condition: \"\(raw)\" (use not-running, next-exit or removed)")
        }
        let handle = try await r.engine.waitContainer(r.param("id"), condition: condition)
        let writer = try await r.response.startStream(status: .ok, headers: ["Content-Type": "application/json"])
        let result = await handle.result()
        let error: JSONValue = result.error.map { ["Message": .string($0)] } ?? .null
        try await writer.write(bytes: JSONValue.object([("StatusCode", .number(result.exitCode)), ("Error", error)]).serialized() + [0x0a])
        try await writer.finish()
    }

    static func logs(_ r: APIRequest) async throws {
        let stdout = r.bool("stdout"), stderr = r.bool("stderr")
        guard stdout || stderr else { throw APIError(400, "Bad parameters: you must choose at least one stream") }
        var request = LogsRequest(follow: r.bool("follow"), stdout: stdout, stderr: stderr)
        if let since = r.query.string("since"), since != "0" {
            guard let ns = DockerTime.parseTimestamp(since) else { throw APIError(400, "invalid value for since: \(since)") }
            request.sinceNs = ns
        }
        if let until = r.query.string("until"), until != "0", !until.isEmpty {
            guard let ns = DockerTime.parseTimestamp(until) else { throw APIError(400, "invalid value for until: \(until)") }
            request.untilNs = ns
        }
        if let tail = r.query.string("tail"), tail != "all", !tail.isEmpty {
            guard let n = Int(tail), n >= 0 else { throw APIError(400, "invalid value for tail: \(tail)") }
            request.tail = n
        }
        let stream = try await r.engine.logs(r.param("id"), request: request)
        let timestamps = r.bool("timestamps")
        let writer = try await r.response.startStream(status: .ok, headers: ["Content-Type": "application/vnd.docker.raw-stream"])
        let task = Task {
            do {
                for try await entry in stream.entries {
                    var bytes = entry.line
                    if timestamps { bytes = Array((DockerTime.rfc3339NanoFixed(entry.timeNs) + " ").utf8) + bytes }
                    try await writer.write(bytes: StreamFraming.encode(OutputChunk(source: entry.source, bytes: bytes), tty: stream.tty))
                }
            } catch {}
        }
        r.response.onClientClose { task.cancel() }
        await task.value
        try? await writer.finish()
    }

    /// Hijacked: the container's output to the client (framed unless TTY),
    /// the client's bytes to the container's stdin.
    static func attach(_ r: APIRequest) async throws {
        let request = AttachRequest(stdin: r.bool("stdin"), stdout: r.bool("stdout"), stderr: r.bool("stderr"),
                                    logs: r.bool("logs"), stream: r.bool("stream"))
        let detachKeys = try DetachKeys(parsing: r.query.string("detachKeys"))
        let session = try await r.engine.attach(r.param("id"), request: request)
        let contentType = session.tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream"
        let connection = try await r.response.hijack(contentType: contentType)
        let stdin: (@Sendable ([UInt8]) async throws -> Void)?
        if session.stdin {
            stdin = { bytes in try await session.writeStdin(bytes) }
        } else {
            stdin = nil
        }
        try await pipe(output: session.output, tty: session.tty, into: connection, stdin: stdin,
                       stdinClosed: { await session.clientClosedStdin() }, detachKeys: detachKeys)
        throw APIResponseSent()
    }

    /// Copies output to a hijacked connection until it ends, and the
    /// client's input to `stdin` until the client half-closes.
    static func pipe(output: AsyncStream<OutputChunk>, tty: Bool, into connection: HijackedStream,
                     stdin: (@Sendable ([UInt8]) async throws -> Void)?, stdinClosed: @escaping @Sendable () async -> Void,
                     detachKeys: DetachKeys = .standard) async throws {
        let copyOut = Task {
            do {
                for await chunk in output {
                    try await connection.output.write(bytes: StreamFraming.encode(chunk, tty: tty))
                }
            } catch {}
        }
        let copyIn = Task {
            guard let stdin else { return }
            var filter = DetachKeyFilter(detachKeys)
            do {
                for try await buffer in connection.input {
                    let (pass, detach) = filter.feed(Array(buffer.readableBytesView))
                    if !pass.isEmpty { try await stdin(pass) }
                    if detach {
                        // The client leaves; the container keeps its stdin open.
                        copyOut.cancel()
                        return
                    }
                }
            } catch {}
            await stdinClosed()
        }
        await copyOut.value
        copyIn.cancel()
        await connection.output.finish()
    }
}
