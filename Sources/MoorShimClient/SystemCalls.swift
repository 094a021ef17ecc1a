import Glibc

/// The one way this module makes a system call: retry `EINTR`, turn any
/// other failure into a `ShimError` naming the call.
@discardableResult
func systemCall<T: FixedWidthInteger & SignedInteger>(_ call: @autoclosure () -> String,
                                                       _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let saved = errno
        if saved != EINTR { throw ShimError.fromErrno(call(), saved) }
    }
}

/// A point on the monotonic clock after which a blocking call gives up;
/// `nil` seconds means never.
struct Deadline {
    private let end: UInt64?

    init(seconds: Double?) {
        guard let seconds, seconds.isFinite, seconds >= 0 else {
            end = nil
            return
        }
        let ns = min(seconds * 1e9, Double(UInt64.max / 4))
        end = Self.now() &+ UInt64(ns)
    }

    /// Milliseconds left for poll(): -1 (no limit), or 0 once past.
    var pollTimeout: Int32 {
        guard let end else { return -1 }
        let now = Self.now()
        guard end > now else { return 0 }
        // Round up so poll never wakes just before the deadline.
        return Int32(clamping: (end - now + 999_999) / 1_000_000)
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// Reads a whole small file, keeping the real errno (`ENOENT` matters to
/// callers); more than `limit` bytes is refused with `EMSGSIZE`.
func readSmallFile(_ path: String, limit: Int) throws -> [UInt8] {
    let fd = try systemCall("open") { open(path, O_RDONLY | O_CLOEXEC) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = try chunk.withUnsafeMutableBytes { raw in
            try systemCall("read") { read(fd, raw.baseAddress, raw.count) }
        }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk.prefix(n))
        guard bytes.count <= limit else {
            throw ShimError.tooLarge("larger than the \(limit)-byte limit")
        }
    }
}
