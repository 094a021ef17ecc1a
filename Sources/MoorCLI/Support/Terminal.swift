#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOConcurrencyHelpers

/// The local terminal: whether a descriptor is one, its size, and raw mode
/// for an interactive TTY session (`run -it`, `exec -it`), so keystrokes
/// such as Ctrl-C reach the container instead of this process.
enum Terminal {
    struct Size: Sendable, Equatable {
        var rows: Int
        var columns: Int
    }

    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// The window size of the terminal on `fd`, or nil if it is none.
    static func size(of fd: Int32 = Output.stdout) -> Size? {
        var window = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &window) == 0, window.ws_row > 0 || window.ws_col > 0 else { return nil }
        return Size(rows: Int(window.ws_row), columns: Int(window.ws_col))
    }

    /// The settings to put back; set while raw mode is on.
    private static let saved = NIOLockedValueBox<termios?>(nil)

    /// Puts stdin in raw mode (no echo, no line editing, no signals from
    /// keys); `restore()` must run before the process exits.
    static func makeRaw(_ fd: Int32 = 0) throws(CLIError) {
        var settings = termios()
        guard tcgetattr(fd, &settings) == 0 else {
            throw CLIError("cannot read the terminal settings of stdin: \(String(cString: strerror(errno)))")
        }
        let original = settings
        cfmakeraw(&settings)
        guard tcsetattr(fd, TCSANOW, &settings) == 0 else {
            throw CLIError("cannot set stdin to raw mode: \(String(cString: strerror(errno)))")
        }
        saved.withLockedValue { $0 = original }
    }

    /// Puts back what `makeRaw` changed; does nothing if it did not run.
    static func restore(_ fd: Int32 = 0) {
        saved.withLockedValue { original in
            guard var settings = original else { return }
            _ = tcsetattr(fd, TCSANOW, &settings)
            original = nil
        }
    }
}
