import CMoorProtocol
import Glibc

/// Framing of the shim protocol (docs/shim-protocol.md): the 16-byte header,
/// whole messages, and error replies. Pure: no I/O, and total: anything a
/// peer could send decodes or throws a `ShimError`, never traps.
public enum ShimCodec {
    public static let magic: UInt32 = MOOR_PROTO_MAGIC
    public static let headerSize = Int(MOOR_PROTO_HEADER_SIZE)
    public static let maxPayload = Int(MOOR_PROTO_MAX_PAYLOAD)

    // MARK: Header

    public static func encode(_ header: ShimHeader) -> [UInt8] {
        var out = ByteWriter(capacity: headerSize)
        out.put(magic)
        out.put(header.type.rawValue)
        out.put(header.flags)
        out.put(header.requestId)
        out.put(header.length)
        return out.bytes
    }

    /// Decodes the first 16 bytes of `bytes`. A bad magic or an announced
    /// payload over 1 MiB means the stream can no longer be trusted.
    public static func decodeHeader(_ bytes: ArraySlice<UInt8>) throws -> ShimHeader {
        guard bytes.count >= headerSize else {
            throw ShimError.protocolViolation("truncated header: \(bytes.count) of \(headerSize) bytes")
        }
        var reader = ByteReader(bytes.prefix(headerSize), structure: "header")
        let foundMagic = try reader.read(UInt32.self, "magic")
        guard foundMagic == magic else {
            throw ShimError.protocolViolation("bad magic \(hex(foundMagic)) in header, expected \(hex(magic))")
        }
        let type = ShimMessageType(rawValue: try reader.read(UInt16.self, "type"))
        let flags = try reader.read(UInt16.self, "flags")
        let requestId = try reader.read(UInt32.self, "request id")
        let length = try reader.read(UInt32.self, "payload length")
        guard length <= maxPayload else {
            throw ShimError.tooLarge("\(type) announces a \(length)-byte payload, over the \(maxPayload)-byte limit")
        }
        return ShimHeader(type: type, flags: flags, requestId: requestId, length: length)
    }

    public static func decodeHeader(_ bytes: [UInt8]) throws -> ShimHeader {
        try decodeHeader(bytes[...])
    }

    // MARK: Whole messages

    public static func encode(_ frame: ShimFrame) throws -> [UInt8] {
        guard frame.payload.count <= maxPayload else {
            throw ShimError.tooLarge("\(frame.type) payload of \(frame.payload.count) bytes is over the \(maxPayload)-byte limit")
        }
        let header = ShimHeader(type: frame.type, flags: frame.flags, requestId: frame.requestId,
                                length: UInt32(frame.payload.count))
        return encode(header) + frame.payload
    }

    /// Decodes a buffer holding exactly one message.
    public static func decodeFrame(_ bytes: [UInt8]) throws -> ShimFrame {
        let header = try decodeHeader(bytes)
        let available = bytes.count - headerSize
        let length = Int(header.length)
        guard available >= length else {
            throw ShimError.protocolViolation(
                "\(header.type): truncated payload: \(available) of \(length) bytes")
        }
        guard available == length else {
            throw ShimError.protocolViolation(
                "\(header.type): \(available - length) bytes after the \(length)-byte payload")
        }
        return ShimFrame(type: header.type, flags: header.flags, requestId: header.requestId,
                         payload: Array(bytes.dropFirst(headerSize)))
    }

    // MARK: Error replies

    public static func encodeError(code: Int32, message: String) -> [UInt8] {
        var out = ByteWriter()
        out.put(code)
        out.put(message.utf8)
        return out.bytes
    }

    /// The `ShimError` an error reply carries: the shim's errno and message.
    public static func decodeError(_ payload: [UInt8]) throws -> ShimError {
        var reader = ByteReader(payload, structure: "error reply")
        let code = try reader.read(Int32.self, "errno")
        let message = text(reader.readRest())
        guard code > 0 else {
            // Still the shim's refusal; keep its words but not a bogus errno.
            return ShimError(code: EPROTO, message: "error reply with errno \(code): \(message)")
        }
        return ShimError(code: code, message: message)
    }

    /// The payload of the reply to `request`, or the error it carries.
    /// Throws `EPROTO` for a reply that answers something else.
    public static func replyPayload(_ frame: ShimFrame, to request: ShimMessageType,
                                    requestId: UInt32) throws -> [UInt8] {
        guard frame.requestId == requestId else {
            throw ShimError.protocolViolation(
                "reply for request id \(frame.requestId) while waiting for \(request) id \(requestId)")
        }
        if frame.type == .error { throw try decodeError(frame.payload) }
        guard frame.type == request.reply else {
            throw ShimError.protocolViolation("\(frame.type) received in answer to \(request)")
        }
        return frame.payload
    }

    // MARK: Helpers

    /// UTF-8 text from the wire; a C sender may leave a terminating NUL.
    static func text(_ bytes: [UInt8]) -> String {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0 { end -= 1 }
        return String(decoding: bytes.prefix(end), as: UTF8.self)
    }

    static func hex<T: FixedWidthInteger>(_ value: T) -> String {
        "0x" + String(value, radix: 16)
    }
}
