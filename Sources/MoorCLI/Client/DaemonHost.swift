/// Where moord listens: `-H/--host`, else `MOOR_HOST`, else `DOCKER_HOST`
/// when it names a unix socket (so a shell set up for the docker CLI against
/// moord works for moor too), else unix:///run/moor.sock.
enum DaemonHost {
    static let defaultHost = "unix:///run/moor.sock"

    /// The URL that will be used, before checking its scheme.
    static func url(flag: String?, environment: [String: String]) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let host = environment["MOOR_HOST"], !host.isEmpty { return host }
        if let host = environment["DOCKER_HOST"], host.hasPrefix("unix://") { return host }
        return defaultHost
    }

    /// The socket path of a `unix://` URL; a bare absolute path is taken as
    /// one too. moord listens on unix sockets only.
    static func socketPath(_ url: String) throws(CLIError) -> String {
        if url.hasPrefix("unix://") {
            let path = String(url.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw CLIError("invalid host \(url): the socket path must be absolute") }
            return path
        }
        if url.hasPrefix("/") { return url }
        throw CLIError("unsupported host \(url): moor connects to moord over a unix socket (unix:///path)")
    }
}
