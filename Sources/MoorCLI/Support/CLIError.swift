/// The one error type of the CLI: what to print and which exit code the
/// process ends with, following the docker CLI's conventions (1 for a failed
/// command, 125 when `run` itself fails, 126/127 when the program cannot be
/// run).
struct CLIError: Error, CustomStringConvertible, Equatable {
    /// The line printed to stderr after "moor: ".
    var message: String
    var exitCode: Int32
    /// The HTTP status the daemon answered with, if the error came from it
    /// (`inspect` tells a missing container from other failures with it).
    var status: Int?

    init(_ message: String, exitCode: Int32 = 1, status: Int? = nil) {
        self.message = message
        self.exitCode = exitCode
        self.status = status
    }

    var description: String { message }

    /// An error answer from moord, printed as docker prints it.
    static func daemon(_ message: String, status: Int) -> CLIError {
        CLIError("Error response from daemon: " + message, status: status)
    }

    /// A flag or argument the CLI refuses before talking to the daemon.
    static func usage(_ message: String) -> CLIError {
        CLIError(message, exitCode: 125)
    }

    /// The same error with another exit code (`run` turns every failure
    /// into 125 unless the program itself could not be run).
    func withExitCode(_ code: Int32) -> CLIError {
        var copy = self
        copy.exitCode = code
        return copy
    }

    var isNotFound: Bool { status == 404 }
}
