/// Ends the process with `code` and nothing printed: how `run` and `exec`
/// pass on the exit code of what ran in the container.
struct ProcessExit: Error, Equatable {
    var code: Int32
}
