#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch

/// Delivers process signals as an async stream: SIGWINCH for terminal
/// resizes, and the signals `run` forwards to its container.
enum Signals {
    /// Streams `signals` until the stream's consumer stops; while it runs the
    /// signals no longer have their default effect (they are ours to handle).
    static func stream(_ signals: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let sources = SignalSources(signals.map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            })
            continuation.onTermination = { _ in
                sources.cancel()
                for number in signals { signal(number, SIG_DFL) }
            }
        }
    }

    /// A signal's name without "SIG", as the daemon's kill accepts it.
    static func name(_ number: Int32) -> String {
        switch number {
        case SIGHUP: "HUP"
        case SIGINT: "INT"
        case SIGQUIT: "QUIT"
        case SIGTERM: "TERM"
        case SIGUSR1: "USR1"
        case SIGUSR2: "USR2"
        case SIGWINCH: "WINCH"
        default: String(number)
        }
    }
}

/// Holds the dispatch sources for the stream's lifetime. Dispatch sources
/// are thread-safe objects that are not marked Sendable; they are only
/// created, then cancelled once.
private final class SignalSources: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(_ sources: [any DispatchSourceSignal]) {
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
