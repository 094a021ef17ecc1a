/// Splits Docker's multiplexed stream (attach, exec and logs of a container
/// without a TTY) into its stdout and stderr parts.
///
/// Each frame is an 8-byte header `[stream, 0, 0, 0, size (big-endian u32)]`
/// and `size` bytes of payload. Bytes arrive in arbitrary chunks, so a header
/// may be split and a payload may span many reads: payload bytes are handed
/// out as soon as they arrive instead of buffering whole frames, which keeps
/// a 1 GiB frame from being held in memory.
struct StreamDemuxer {
    /// The stream a frame belongs to (stdin is echoed on stdout, as the
    /// docker CLI does; `systemErr` carries a daemon error message).
    enum Stream: UInt8, Sendable {
        case stdin = 0, stdout = 1, stderr = 2, systemErr = 3
    }

    struct Piece: Sendable, Equatable {
        var stream: Stream
        var bytes: [UInt8]
    }

    private var header: [UInt8] = []
    private var stream = Stream.stdout
    private var remaining = 0

    /// True between frames: an input that ends elsewhere was cut short.
    var atFrameBoundary: Bool { header.isEmpty && remaining == 0 }

    /// Consumes `bytes` and returns the payload pieces they complete, in
    /// order; consecutive bytes of one frame come out as one piece.
    mutating func feed(_ bytes: some Collection<UInt8>) throws(CLIError) -> [Piece] {
        var pieces: [Piece] = []
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if remaining == 0 {
                header.append(bytes[index])
                index = bytes.index(after: index)
                if header.count == 8 { try startFrame() }
                continue
            }
            let end = bytes.index(index, offsetBy: remaining, limitedBy: bytes.endIndex) ?? bytes.endIndex
            let payload = Array(bytes[index..<end])
            remaining -= payload.count
            index = end
            if let last = pieces.last, last.stream == stream {
                pieces[pieces.count - 1].bytes += payload
            } else {
                pieces.append(Piece(stream: stream, bytes: payload))
            }
        }
        return pieces
    }

    private mutating func startFrame() throws(CLIError) {
        defer { header.removeAll(keepingCapacity: true) }
        guard let kind = Stream(rawValue: header[0]) else {
            throw CLIError("unrecognized stream \(header[0]) in the daemon's multiplexed output")
        }
        stream = kind
        remaining = header[4...7].reduce(0) { $0 << 8 | Int($1) }
    }
}
