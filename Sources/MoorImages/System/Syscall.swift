import Glibc

/// Runs a system call that returns -1 on failure, retrying EINTR, and
/// throws an error naming the call and `subject` (a path or an entry).
@discardableResult
func sys<T: FixedWidthInteger>(
    _ call: String, _ subject: @autoclosure () -> String, _ body: () -> T
) throws -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw ImagesError.failure(call, subject(), errno: code)
    }
}

/// The same, for a call made on behalf of an archive entry: a failure the
/// archive caused is a 400 naming the entry (see `ImagesError.entryFailure`).
@discardableResult
func sysEntry<T: FixedWidthInteger>(_ call: String, _ entry: String, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw ImagesError.entryFailure(call, entry, errno: code)
    }
}

/// Runs a call returning -1 with errno, retrying EINTR; returns the errno
/// (0 on success) for callers that treat some failures as expected.
func sysErrno(_ body: () -> Int32) -> Int32 {
    while true {
        if body() != -1 { return 0 }
        let code = errno
        if code != EINTR { return code }
    }
}

/// Closes a descriptor this module owns; errors on close are not actionable
/// for descriptors only read or already fsync'd.
func closeFD(_ fd: Int32) {
    if fd >= 0 { _ = close(fd) }
}

/// A NUL-terminated copy of raw path bytes, for the *at calls.
func cPath(_ bytes: [UInt8]) -> [CChar] {
    var result = [CChar]()
    result.reserveCapacity(bytes.count + 1)
    for byte in bytes { result.append(CChar(bitPattern: byte)) }
    result.append(0)
    return result
}

/// Raw path bytes as text for messages (invalid UTF-8 is replaced).
func displayPath(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}
