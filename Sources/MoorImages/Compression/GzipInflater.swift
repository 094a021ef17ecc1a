import CZlib
import Glibc

/// Streaming gzip decompression over zlib. Concatenated gzip members are one
/// stream, as Go's gzip reader (Docker's) reads them; data after the last
/// member that is not another member is an error.
final class GzipInflater: StreamDecompressor {
    private static let outputSize = 1 << 20
    /// zlib keeps a pointer back to its z_stream, so it must not move.
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    private var memberEnded = false

    init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: Self.outputSize, alignment: 16)
        let code = moor_inflate_init_gzip(stream)
        guard code == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw ImagesError.system("cannot start gzip decompression (zlib error \(code))", errno: 0)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Decompresses `input`, handing each piece of output to `consume`.
    func decompress(_ input: UnsafeRawBufferPointer, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        // avail_in is 32 bits; HTTP chunks are far smaller, but stay correct.
        var offset = 0
        while offset < input.count {
            let count = min(input.count - offset, Int(UInt32.max))
            try inflatePiece(UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: Bytef.self)),
                             count: count, consume)
            offset += count
        }
    }

    private func inflatePiece(_ input: UnsafeMutablePointer<Bytef>, count: Int,
                              _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.pointee.next_in = input
        stream.pointee.avail_in = UInt32(count)
        while true {
            if memberEnded {
                if stream.pointee.avail_in == 0 { return }
                // Another member follows: zlib checks its header.
                inflateReset(stream)
                memberEnded = false
            }
            stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(output.count)
            let code = CZlib.inflate(stream, Z_NO_FLUSH)
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 { try consume(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            switch code {
            case Z_STREAM_END:
                memberEnded = true
            case Z_OK:
                // Output was full or input ran out; go on while there is either.
                if stream.pointee.avail_in == 0 && produced < output.count { return }
            case Z_BUF_ERROR:
                return
            case Z_MEM_ERROR:
                throw ImagesError.system("gzip decompression: out of memory", errno: ENOMEM)
            default:
                throw ImagesError.invalid("the gzip stream is corrupt: \(zlibMessage(code))")
            }
        }
    }

    /// Checks the stream ended at the end of a member.
    func finish(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard memberEnded else { throw ImagesError.invalid("the gzip stream is truncated") }
    }

    private func zlibMessage(_ code: Int32) -> String {
        if let text = stream.pointee.msg { return String(cString: text) }
        return "zlib error \(code)"
    }
}
