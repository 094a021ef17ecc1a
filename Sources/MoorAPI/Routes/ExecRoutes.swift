import Foundation
import MoorEngine
import MoorHTTP

/// `/containers/{id}/exec` and `/exec/...`
enum ExecRoutes {
    static let routes: [Route] = [
        Route("POST", "/containers/{id}/exec", create),
        Route("POST", "/exec/{id}/start", start),
        Route("POST", "/exec/{id}/resize", resize),
        Route("GET", "/exec/{id}/json", inspect),
    ]

    static func create(_ r: APIRequest) async throws {
        let config = try await r.decode(ExecConfig.self)
        let id = try await r.engine.createExec(r.param("id"), config: config)
        try await r.send(["Id": .string(id)], status: .created)
    }

    struct StartBody: Decodable {
        var detach: Bool?
        var tty: Bool?
        enum CodingKeys: String, CodingKey { case detach = "Detach", tty = "Tty" }
    }

    /// Detached: starts and answers 200. Attached: hijacks first, then
    /// starts; a process that cannot run is reported in the stream, as
    /// dockerd does, and its exit code (126/127) in `exec inspect`.
    static func start(_ r: APIRequest) async throws {
        let body = try await r.decode(StartBody.self)
        let id = r.param("id")
        try await r.engine.checkExecCanStart(id)
        if body.detach ?? false {
            _ = try await r.engine.startExec(id, detach: true)
            try await r.response.send(status: .ok)
            return
        }
        let config = try await r.engine.inspectExec(id).config
        let tty = config.tty ?? false
        let detachKeys = try DetachKeys(parsing: config.detachKeys)
        let connection = try await r.response.hijack(contentType: tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream")
        let session: ExecSession
        do {
            session = try await r.engine.startExec(id, detach: false)
        } catch {
            let message = Array((APIRouter.describe(error).1 + "\r\n").utf8)
            try? await connection.output.write(bytes: tty ? message : StreamFraming.frame(StreamFraming.stderr, message))
            await connection.output.finish()
            throw APIResponseSent()
        }
        try await ContainerRoutes.pipe(output: session.output, tty: session.tty, into: connection,
                                       stdin: { try await session.writeStdin($0) }, stdinClosed: { await session.closeStdin() },
                                       detachKeys: detachKeys)
        throw APIResponseSent()
    }

    static func resize(_ r: APIRequest) async throws {
        try await r.engine.resizeExec(r.param("id"), height: try r.int("h") ?? 0, width: try r.int("w") ?? 0)
        try await r.response.send(status: .created)
    }

    static func inspect(_ r: APIRequest) async throws {
        let view = try await r.engine.inspectExec(r.param("id"))
        let c = view.config
        try await r.send([
            "CanRemove": false, "ContainerID": .string(view.containerID), "DetachKeys": .string(c.detachKeys ?? ""),
            "ExitCode": view.exitCode.map { .number($0) } ?? .null, "ID": .string(view.id),
            "OpenStderr": .bool(c.attachStderr ?? false), "OpenStdin": .bool(c.attachStdin ?? false),
            "OpenStdout": .bool(c.attachStdout ?? false), "ProcessConfig": [
                "arguments": .strings(Array(c.cmd.dropFirst())), "entrypoint": .string(c.cmd.first ?? ""),
                "privileged": .bool(c.privileged ?? false), "tty": .bool(c.tty ?? false), "user": .string(c.user ?? ""),
            ],
            "Running": .bool(view.running), "Pid": .number(view.pid),
        ])
    }
}
