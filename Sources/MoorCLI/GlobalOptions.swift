import ArgumentParser
import Foundation

/// `-H/--host`, accepted before the verb (`moor -H unix:///s ps`, as docker
/// takes it) and after it.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("H"), .long], help: "Daemon socket to connect to (unix:///path)")
    var host: String?

    /// The client for the daemon this invocation talks to.
    func client() throws(CLIError) -> DaemonClient {
        try DaemonClient(host: DaemonHost.url(flag: host, environment: ProcessInfo.processInfo.environment))
    }

    /// Moves global options written before the verb to just after it, where
    /// the verb's parser reads them: `-H X ps -a` → `ps -H X -a`.
    static func reorder(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if first == "-H" || first == "--host", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--host=") || (first.hasPrefix("-H") && first.count > 2) {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard let verb = rest.first, !leading.isEmpty else { return arguments }
        return [verb] + leading + rest.dropFirst()
    }
}
