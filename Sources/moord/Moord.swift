import ArgumentParser
import Foundation
import MoorDaemon

/// moord: the moor daemon. Flags mirror dockerd's.
@main
struct Moord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moord",
        abstract: "The moor container daemon: serves the Docker Engine API on a unix socket.",
        version: Daemon.version)

    @Option(name: .long, help: "Daemon configuration file (default /etc/moor/daemon.json)")
    var configFile: String?

    @Option(name: .long, help: "Root of persistent state (default /var/lib/moor)")
    var dataRoot: String?

    @Option(name: .long, help: "Root of runtime state (default /run/moor)")
    var execRoot: String?

    @Option(name: [.customShort("H"), .long], help: "Socket to listen on: unix:///PATH (default unix:///run/moor.sock)")
    var host: [String] = []

    @Option(name: .long, help: "Path of the daemon's pid file")
    var pidfile: String?

    @Flag(name: .long, help: "Keep containers running while the daemon is down")
    var liveRestore = false

    @Option(name: .long, help: "Log level: debug, info, warn, error, fatal (default info)")
    var logLevel: String?

    @Flag(name: [.customShort("D"), .long], help: "Debug logging")
    var debug = false

    @Option(name: .long, help: "Default log driver for containers (default json-file)")
    var logDriver: String?

    @Option(name: .long, help: "Default log driver option, KEY=VALUE (repeatable)")
    var logOpt: [String] = []

    @Option(name: [.customShort("s"), .long], help: "Storage driver: overlay2 or vfs (default overlay2)")
    var storageDriver: String?

    @Option(name: .long, help: "Path of the moor-shim binary")
    var shimBinary: String?

    @Option(name: .long, help: "Seccomp profile (Docker's format) for containers that do not choose one; unconfined or builtin also")
    var seccompProfile: String?

    func run() async throws {
        var flags = DaemonFlags()
        flags.configFile = configFile
        flags.dataRoot = dataRoot
        flags.execRoot = execRoot
        flags.hosts = host
        flags.pidfile = pidfile
        flags.liveRestore = liveRestore ? true : nil
        flags.logLevel = logLevel
        flags.debug = debug ? true : nil
        flags.logDriver = logDriver
        for option in logOpt {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--log-opt \(option): expected KEY=VALUE") }
            flags.logOpts[parts[0]] = parts[1]
        }
        flags.storageDriver = storageDriver
        flags.shimBinary = shimBinary
        flags.seccompProfile = seccompProfile
        let status = await Daemon.run(flags: flags)
        if status != 0 { throw ExitCode(status) }
    }
}

