import MoorEngine

/// Docker's multiplexed stream (stdcopy): each frame is an 8-byte header
/// `[stream, 0, 0, 0, length as big-endian u32]` then the bytes. Stream 1 is
/// stdout, 2 stderr. Containers with a TTY send raw bytes instead.
enum StreamFraming {
    static let stdout: UInt8 = 1
    static let stderr: UInt8 = 2

    /// A chunk as the client reads it: raw with a TTY, framed without.
    static func encode(_ chunk: OutputChunk, tty: Bool) -> [UInt8] {
        if tty { return chunk.bytes }
        return frame(chunk.source == .stdout ? stdout : stderr, chunk.bytes)
    }

    static func frame(_ stream: UInt8, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [stream, 0, 0, 0]
        let length = UInt32(payload.count)
        out += [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
        return out + payload
    }
}
