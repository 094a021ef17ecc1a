import CZlib
import MoorPluginKit

/// A rotated log file compressed with gzip, read as its content.
///
/// It inflates as it is read, so memory stays at one input buffer and
/// zlib's window whatever the file's size, and reading forwards costs one
/// pass over the file; a read at an earlier offset starts over from the
/// beginning. Concatenated gzip members read as one content, as `zcat`
/// reads them. A file that ends inside its gzip data, or whose data is
/// damaged, throws `LogDriverError.storage` naming it.
final class GzipFileInput: LogFileInput {
    private let file: PosixFile
    /// zlib's state for the pass under way: made at the first read, dropped
    /// at the end of the data, so a reader holding every file of a log
    /// open holds one inflate state at a time.
    private var inflater: Inflater?
    /// How much content was handed out (or skipped): where the next read goes on.
    private var position: Int64 = 0
    private var finished = false

    var path: String { file.path }

    init(_ file: PosixFile) {
        self.file = file
    }

    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        if offset < position {
            inflater = nil
            position = 0
            finished = false
        }
        while position < offset && !finished {
            var skipped = [UInt8](repeating: 0, count: Int(min(offset - position, Int64(Inflater.inputSize))))
            _ = try skipped.withUnsafeMutableBytes { try fill($0) }
        }
        var out = [UInt8](repeating: 0, count: count)
        let done = try out.withUnsafeMutableBytes { try fill($0) }
        out.removeLast(count - done)
        return out
    }

    /// Fills `buffer` with the content at `position` and returns how much
    /// it wrote: fewer bytes than asked only at the end of the content.
    private func fill(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, !finished else { return 0 }
        let state = try inflater ?? Inflater(path: path)
        inflater = state
        var filled = 0
        while filled < buffer.count {
            guard try state.hasInput(file) else {
                finished = true
                inflater = nil
                break
            }
            filled += try state.inflate(into: UnsafeMutableRawBufferPointer(start: base + filled,
                                                                             count: buffer.count - filled))
        }
        position += Int64(filled)
        return filled
    }
}

/// zlib's inflate state and its input buffer, both in allocated memory
/// because zlib keeps pointers to them between calls.
private final class Inflater {
    static let inputSize = 1 << 16
    private let path: String
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    /// The next compressed byte to read from the file.
    private var fileOffset: Int64 = 0
    private var memberEnded = false

    init(path: String) throws {
        self.path = path
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: Self.inputSize, alignment: 16)
        let code = moor_inflate_init_gzip(stream)
        guard code == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw LogDriverError.storage("gzip decompression of \(path): cannot start (zlib error \(code))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Makes sure zlib has compressed bytes to work on; false at the end
    /// of the content (the file ended just after a whole member).
    func hasInput(_ file: PosixFile) throws -> Bool {
        if stream.pointee.avail_in == 0 {
            let count = try file.read(at: fileOffset, into: input)
            if count == 0 {
                guard memberEnded else {
                    throw LogDriverError.storage("gzip decompression of \(path): the file ends inside its gzip data")
                }
                return false
            }
            fileOffset += Int64(count)
            stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = UInt32(count)
        }
        if memberEnded {
            // More bytes after a member: another member, whose header zlib checks.
            inflateReset(stream)
            memberEnded = false
        }
        return true
    }

    /// Inflates what input there is into `buffer`; returns the bytes written.
    func inflate(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let room = UInt32(min(buffer.count, Int(UInt32.max)))
        stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = room
        let code = CZlib.inflate(stream, Z_NO_FLUSH)
        switch code {
        case Z_OK:
            break
        case Z_STREAM_END:
            memberEnded = true
        case Z_BUF_ERROR where stream.pointee.avail_in == 0:
            break // it needs more input
        default:
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(code)"
            throw LogDriverError.storage("gzip decompression of \(path): \(message)")
        }
        return Int(room - stream.pointee.avail_out)
    }
}
