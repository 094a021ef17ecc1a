import Glibc

/// Writes a regular file's content in large blocks: archive data arrives in
/// pieces as small as the HTTP chunks, and one write(2) per piece would
/// dominate an import. One buffer serves every file of the import.
final class BufferedFileWriter {
    private static let capacity = 1 << 20
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    private var count = 0
    private var fd: Int32 = -1
    private var entry = ""

    deinit { buffer.deallocate() }

    /// Starts a file; the descriptor stays the caller's.
    func start(fd: Int32, entry: String) {
        self.fd = fd
        self.entry = entry
        count = 0
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        if count + bytes.count > buffer.count { try flush() }
        if bytes.count >= buffer.count {
            try write(bytes)
            return
        }
        UnsafeMutableRawBufferPointer(rebasing: buffer[count..<(count + bytes.count)]).copyMemory(from: bytes)
        count += bytes.count
    }

    func flush() throws {
        guard count > 0 else { return }
        try write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        count = 0
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            offset += try sysEntry("write", entry) { Glibc.write(fd, base + offset, bytes.count - offset) }
        }
    }
}
