import CLzma
import Glibc

/// Streaming xz decompression over liblzma. Concatenated .xz streams are
/// one stream (as xz(1) reads them). The decoder's memory is bounded: an
/// archive whose dictionary would need more is refused, not obeyed.
final class XzDecoder: StreamDecompressor {
    private static let outputSize = 1 << 20
    /// xz -9 needs 65 MiB to decode; 512 MiB leaves room for custom
    /// presets and keeps a hostile header from taking the host's memory.
    static let memoryLimit: UInt64 = 512 << 20

    /// liblzma keeps internal pointers into its lzma_stream: it must not move.
    private let stream: UnsafeMutablePointer<lzma_stream>
    private let output: UnsafeMutableRawBufferPointer
    private var ended = false

    init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: lzma_stream())
        output = .allocate(byteCount: Self.outputSize, alignment: 16)
        let code = moor_lzma_stream_decoder(stream, Self.memoryLimit)
        guard code == LZMA_OK else {
            stream.deallocate()
            output.deallocate()
            throw ImagesError.system("cannot start xz decompression (liblzma error \(code.rawValue))", errno: 0)
        }
    }

    deinit {
        lzma_end(stream)
        stream.deallocate()
        output.deallocate()
    }

    func decompress(_ input: UnsafeRawBufferPointer, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        guard !ended else { throw ImagesError.invalid("the xz stream is followed by data that is not xz") }
        stream.pointee.next_in = base.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_in = input.count
        try run(LZMA_RUN, consume)
    }

    /// With concatenated streams allowed, only LZMA_FINISH tells liblzma the
    /// input is over; it then checks the last stream is complete.
    func finish(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !ended else { return }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try run(LZMA_FINISH, consume)
        guard ended else { throw ImagesError.invalid("the xz stream is truncated") }
    }

    private func run(_ action: lzma_action, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = output.count
            let code = lzma_code(stream, action)
            let produced = output.count - stream.pointee.avail_out
            if produced > 0 { try consume(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            switch code {
            case LZMA_OK:
                // Go on while output filled up or input remains.
                if stream.pointee.avail_in == 0 && produced < output.count && action == LZMA_RUN { return }
            case LZMA_STREAM_END:
                ended = true
                if stream.pointee.avail_in > 0 {
                    throw ImagesError.invalid("the xz stream is followed by data that is not xz")
                }
                return
            case LZMA_BUF_ERROR:
                if action == LZMA_FINISH { throw ImagesError.invalid("the xz stream is truncated") }
                return
            case LZMA_MEM_ERROR:
                throw ImagesError.system("xz decompression: out of memory", errno: ENOMEM)
            case LZMA_MEMLIMIT_ERROR:
                throw ImagesError.invalid("the xz stream needs more than \(Self.memoryLimit >> 20) MiB of memory "
                    + "to decompress; refusing it")
            case LZMA_FORMAT_ERROR:
                throw ImagesError.invalid("the xz stream is corrupt: not in the .xz format")
            case LZMA_DATA_ERROR, LZMA_OPTIONS_ERROR:
                throw ImagesError.invalid("the xz stream is corrupt (liblzma error \(code.rawValue))")
            default:
                throw ImagesError.invalid("xz decompression failed (liblzma error \(code.rawValue))")
            }
        }
    }
}
