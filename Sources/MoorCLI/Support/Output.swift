#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes to the process's stdout and stderr with plain `write(2)`, so the
/// container's bytes reach the terminal unbuffered and in order, and a
/// closed pipe (`moor logs c | head`) ends the copy instead of the process.
enum Output {
    static let stdout: Int32 = 1
    static let stderr: Int32 = 2

    /// Writes every byte; returns false if the reader went away.
    @discardableResult
    static func write(_ bytes: some Collection<UInt8>, to fd: Int32) -> Bool {
        let array = Array(bytes)
        return array.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN { waitWritable(fd); continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    @discardableResult
    static func print(_ text: String, to fd: Int32 = stdout) -> Bool {
        write(Array(text.utf8), to: fd)
    }

    /// A line to stderr, prefixed as every moor error is.
    static func error(_ message: String) {
        write(Array("moor: \(message)\n".utf8), to: stderr)
    }

    /// A terminal shared with a process that set it non-blocking answers
    /// EAGAIN; wait until it drains.
    private static func waitWritable(_ fd: Int32) {
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&entry, 1, 100)
    }
}
