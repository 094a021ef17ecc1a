import ArgumentParser

/// The flags of `moor run` that shape the container, named and spelled as
/// docker's. Values stay as typed here; `CreateBody` checks and converts
/// them, so a bad value is reported the way docker reports it (exit 125).
/// Numeric options take their value unconditionally: `--memory-swap -1`
/// and `--pids-limit -1` mean "unlimited", not a flag.
struct ContainerFlags: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Run the container in the background and print its ID")
    var detach = false
    @Flag(name: .shortAndLong, help: "Keep STDIN open even if not attached")
    var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY")
    var tty = false
    @Flag(name: .customLong("rm"), help: "Remove the container when it exits")
    var autoRemove = false
    @Option(help: "Assign a name to the container")
    var name: String?
    @Option(name: .shortAndLong, help: "Set environment variables (KEY=VALUE, or KEY to copy it from here)")
    var env: [String] = []
    @Option(name: .shortAndLong, help: "Working directory inside the container")
    var workdir: String?
    @Option(name: .shortAndLong, help: "Username or UID (format: <name|uid>[:<group|gid>])")
    var user: String?
    @Option(help: "Overwrite the default ENTRYPOINT of the image")
    var entrypoint: String?
    @Option(name: .shortAndLong, help: "Set meta data on a container (KEY=VALUE)")
    var label: [String] = []
    @Option(name: .shortAndLong, help: "Bind mount a volume (SRC:DST[:ro])")
    var volume: [String] = []
    @Option(help: "Mount a tmpfs directory (DST[:OPTIONS])")
    var tmpfs: [String] = []
    @Flag(name: .customLong("read-only"), help: "Mount the container's root filesystem as read only")
    var readOnly = false
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Memory limit (e.g. 32m, 1.5g)")
    var memory: String?
    @Option(name: .customLong("memory-swap"), parsing: .unconditional, help: "Swap limit equal to memory plus swap: '-1' for unlimited")
    var memorySwap: String?
    @Option(name: .customLong("pids-limit"), parsing: .unconditional, help: "Tune container pids limit (set -1 for unlimited)")
    var pidsLimit: Int64?
    @Option(parsing: .unconditional, help: "Number of CPUs (e.g. 1.5)")
    var cpus: String?
    @Option(name: [.customShort("c"), .customLong("cpu-shares")], parsing: .unconditional, help: "CPU shares (relative weight)")
    var cpuShares: Int64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs in which to allow execution (0-3, 0,1)")
    var cpusetCpus: String?
    @Option(name: .customLong("cap-add"), help: "Add Linux capabilities")
    var capAdd: [String] = []
    @Option(name: .customLong("cap-drop"), help: "Drop Linux capabilities")
    var capDrop: [String] = []
    @Option(name: .customLong("security-opt"), help: "Security Options")
    var securityOpt: [String] = []
    @Flag(help: "Give extended privileges to this container")
    var privileged = false
    @Option(help: "Restart policy to apply when a container exits (no, always, unless-stopped, on-failure[:N])")
    var restart: String?
    @Option(name: .customLong("log-driver"), help: "Logging driver for the container")
    var logDriver: String?
    @Option(name: .customLong("log-opt"), help: "Log driver options (KEY=VALUE)")
    var logOpt: [String] = []
    @Option(name: [.customLong("network"), .customLong("net")], help: "Connect a container to a network")
    var network: String?
    @Option(name: .customLong("stop-signal"), help: "Signal to stop the container")
    var stopSignal: String?
    @Option(name: .customLong("stop-timeout"), parsing: .unconditional, help: "Timeout (in seconds) to stop a container")
    var stopTimeout: Int?
    @Option(name: [.customShort("h"), .customLong("hostname")], help: "Container host name")
    var hostname: String?
}
