import NIOCore

/// Docker's error body, `{"message": "..."}` followed by a newline (dockerd
/// writes it with Go's json.Encoder); the CLI prints the message.
enum ErrorBody {
    static func json(_ message: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("{\"message\":")
        buffer.writeString(jsonString(message))
        buffer.writeString("}\n")
        return buffer
    }

    /// `text` as a JSON string literal (RFC 8259 section 7).
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The status and message for an error a responder threw.
    static func describe(_ error: any Error) -> (HTTPStatus, String) {
        if let error = error as? any HTTPStatusError {
            return (error.status, error.responseMessage)
        }
        if error is CancellationError {
            return (.internalServerError, "request cancelled: the client went away")
        }
        return (.internalServerError, String(describing: error))
    }
}
