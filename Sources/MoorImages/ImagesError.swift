import Glibc

/// The one error type of MoorImages.
///
/// Each case carries the HTTP status Docker answers with, and a message the
/// docker CLI prints as is, so it names the image, reference, change or
/// archive entry at fault.
public enum ImagesError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 404: no image (or tag) by that name: "No such image: busybox:latest".
    case notFound(String)
    /// 409: the image is in use or referenced, or the store is busy with it.
    case conflict(String)
    /// 400: a bad reference, change, platform or archive.
    case invalid(String)
    /// 500: the store itself failed; the message names the call and the path.
    case system(String, errno: Int32)

    /// The HTTP status Docker uses for this error.
    public var status: Int {
        switch self {
        case .notFound: 404
        case .conflict: 409
        case .invalid: 400
        case .system: 500
        }
    }

    /// The text for Docker's `{"message": ...}` body.
    public var message: String {
        switch self {
        case let .notFound(text), let .conflict(text), let .invalid(text), let .system(text, _):
            text
        }
    }

    public var description: String { message }

    static func noSuchImage(_ reference: String) -> ImagesError {
        .notFound("No such image: \(reference)")
    }

    /// An archive entry refused for what it is or where it points.
    static func badEntry(_ name: String, _ reason: String) -> ImagesError {
        .invalid("archive entry \"\(name)\": \(reason)")
    }

    /// A failed call, `errno` as it was left. `subject` names the path,
    /// entry or image it was working on.
    static func failure(_ call: String, _ subject: String, errno code: Int32 = errno) -> ImagesError {
        .system("\(subject): \(call) failed: \(errnoText(code))", errno: code)
    }

    /// A failed call while creating an archive entry: the archive caused
    /// it (400) unless the errno says the disk or the kernel is at fault.
    static func entryFailure(_ call: String, _ name: String, errno code: Int32 = errno) -> ImagesError {
        let storeFaults: Set<Int32> = [ENOSPC, EDQUOT, EIO, ENOMEM, EROFS, EMFILE, ENFILE]
        if storeFaults.contains(code) { return .failure(call, "archive entry \"\(name)\"", errno: code) }
        return badEntry(name, "\(call) failed: \(errnoText(code))")
    }

    /// The same error with `context` put before its message (the layer an
    /// entry was in, the image a step was for).
    func prefixed(_ context: String) -> ImagesError {
        switch self {
        case let .notFound(text): .notFound(context + text)
        case let .conflict(text): .conflict(context + text)
        case let .invalid(text): .invalid(context + text)
        case let .system(text, code): .system(context + text, errno: code)
        }
    }

    static func errnoText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
