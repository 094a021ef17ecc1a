import NIOCore

/// Docker's error body, `{"message": "..."}` followed by a newline (dockerd
/// writes it with Go's json.Encoder); the CLI prints the message.
enum ErrorBody {
    static func json(_ message: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("{\"message\":")
        buffer.writeString(JSONStringLiteral.quoted(message))
        buffer.writeString("}\n")
        return buffer
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
