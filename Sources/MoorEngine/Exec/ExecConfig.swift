/// The body of `POST /containers/{id}/exec`.
public struct ExecConfig: Codable, Sendable, Equatable {
    public var cmd: [String]
    public var env: [String]?
    public var user: String?
    public var workingDir: String?
    public var tty: Bool?
    public var attachStdin: Bool?
    public var attachStdout: Bool?
    public var attachStderr: Bool?
    public var privileged: Bool?
    public var detachKeys: String?
    public var consoleSize: [Int]?

    public init(cmd: [String]) { self.cmd = cmd }

    enum CodingKeys: String, CodingKey {
        case cmd = "Cmd", env = "Env", user = "User", workingDir = "WorkingDir", tty = "Tty"
        case attachStdin = "AttachStdin", attachStdout = "AttachStdout", attachStderr = "AttachStderr"
        case privileged = "Privileged", detachKeys = "DetachKeys", consoleSize = "ConsoleSize"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cmd = try c.decodeIfPresent(StringList.self, forKey: .cmd)?.values ?? []
        env = try c.decodeIfPresent([String].self, forKey: .env)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        workingDir = try c.decodeIfPresent(String.self, forKey: .workingDir)
        tty = try c.decodeIfPresent(Bool.self, forKey: .tty)
        attachStdin = try c.decodeIfPresent(Bool.self, forKey: .attachStdin)
        attachStdout = try c.decodeIfPresent(Bool.self, forKey: .attachStdout)
        attachStderr = try c.decodeIfPresent(Bool.self, forKey: .attachStderr)
        privileged = try c.decodeIfPresent(Bool.self, forKey: .privileged)
        // dockerd decodes as Go does, ignoring case; docker-py sends "detachKeys".
        detachKeys = try c.decodeIfPresent(String.self, forKey: .detachKeys)
            ?? decoder.container(keyedBy: LowerCamelKeys.self).decodeIfPresent(String.self, forKey: .detachKeys)
        consoleSize = try c.decodeIfPresent([Int].self, forKey: .consoleSize)
    }
}

private enum LowerCamelKeys: String, CodingKey {
    case detachKeys
}

/// What `GET /exec/{id}/json` shows.
public struct ExecView: Sendable, Equatable {
    public var id: String
    public var containerID: String
    public var config: ExecConfig
    public var running: Bool
    /// nil until it exited.
    public var exitCode: Int32?
    public var pid: Int32
}
