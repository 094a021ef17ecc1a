#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MoorHTTP

/// What runs beside an attached session: keeping the remote TTY the size of
/// ours, and passing our signals on to the container.
enum SessionControl {
    /// Sends our terminal's size to `path` (`/containers/{id}/resize` or
    /// `/exec/{id}/resize`) now and on every SIGWINCH, until cancelled.
    static func followResize(_ client: DaemonClient, path: String) -> Task<Void, Never> {
        let resizes = Signals.stream([SIGWINCH])
        return Task {
            // The process may not exist yet when the session opens (an exec
            // starts after the hijack): retry the first resize, as docker does.
            for attempt in 1...10 {
                if await resize(client, path: path) { break }
                try? await Task.sleep(for: .milliseconds(10 * attempt))
            }
            for await _ in resizes {
                await resize(client, path: path)
            }
        }
    }

    /// True once the daemon took the size (or there is no size to send).
    @discardableResult
    private static func resize(_ client: DaemonClient, path: String) async -> Bool {
        guard let size = Terminal.size() else { return true }
        let query = HTTPQuery([("h", String(size.rows)), ("w", String(size.columns))])
        do {
            try await client.call("POST", path, query: query)
            return true
        } catch {
            return false
        }
    }

    /// Forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the
    /// container, as `docker run` does without a TTY: Ctrl-C stops the
    /// program in the container, which decides how to end.
    static func forwardSignals(_ client: DaemonClient, containerID: String) -> Task<Void, Never> {
        let signals = Signals.stream([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2])
        return Task {
            for await number in signals {
                let query = HTTPQuery([("signal", Signals.name(number))])
                try? await client.call("POST", "/containers/\(containerID)/kill", query: query)
            }
        }
    }
}
