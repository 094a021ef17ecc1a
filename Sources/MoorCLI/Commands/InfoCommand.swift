import ArgumentParser

/// `moor info`: the daemon's system-wide facts, laid out as `docker info`.
struct InfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Display system-wide information")

    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Format the output using a template ('{{.ServerVersion}}')")
    var format: String?

    func run() async throws {
        let info = try await global.client().get("/info")
        if let format {
            Output.print(try FormatTemplate(format).render(info) + "\n")
            return
        }
        Output.print("Client:\n Version:    \(MoorCommand.version)\n Context:    default\n Debug Mode: false\n\n")
        Output.print(Self.serverText(info))
        for warning in info["Warnings"]?.stringArray ?? [] {
            Output.print(warning + "\n", to: Output.stderr)
        }
    }

    static func serverText(_ info: JSON) -> String {
        func text(_ key: String) -> String {
            guard let value = info[key] else { return "" }
            return value.stringValue ?? FormatTemplate.display(.json(value))
        }
        var out = "Server:\n Containers: \(text("Containers"))\n  Running: \(text("ContainersRunning"))\n"
        out += "  Paused: \(text("ContainersPaused"))\n  Stopped: \(text("ContainersStopped"))\n"
        out += " Images: \(text("Images"))\n Server Version: \(text("ServerVersion"))\n Storage Driver: \(text("Driver"))\n"
        for pair in info["DriverStatus"]?.arrayValue ?? [] where pair.stringArray.count == 2 {
            out += "  \(pair.stringArray[0]): \(pair.stringArray[1])\n"
        }
        out += " Logging Driver: \(text("LoggingDriver"))\n Cgroup Driver: \(text("CgroupDriver"))\n"
        out += " Cgroup Version: \(text("CgroupVersion"))\n Plugins:\n"
        for kind in ["Volume", "Network", "Log"] {
            out += "  \(kind): " + (info["Plugins"]?[kind]?.stringArray ?? []).joined(separator: " ") + "\n"
        }
        if case let .object(runtimes)? = info["Runtimes"] {
            out += " Runtimes: " + runtimes.map(\.key).joined(separator: " ") + "\n"
        }
        out += " Default Runtime: \(text("DefaultRuntime"))\n"
        out += securityOptions(info["SecurityOptions"]?.stringArray ?? [])
        out += " Kernel Version: \(text("KernelVersion"))\n Operating System: \(text("OperatingSystem"))\n"
        out += " OSType: \(text("OSType"))\n Architecture: \(text("Architecture"))\n CPUs: \(text("NCPU"))\n"
        out += " Total Memory: \(HumanUnits.binarySize(info["MemTotal"]?.intValue ?? 0))\n"
        out += " Name: \(text("Name"))\n ID: \(text("ID"))\n Docker Root Dir: \(text("DockerRootDir"))\n"
        out += " Debug Mode: \(text("Debug"))\n Experimental: \(text("ExperimentalBuild"))\n"
        out += " Live Restore Enabled: \(text("LiveRestoreEnabled"))\n\n"
        return out
    }

    /// "name=seccomp,profile=default" → "  seccomp\n   Profile: default".
    static func securityOptions(_ options: [String]) -> String {
        guard !options.isEmpty else { return "" }
        var out = " Security Options:\n"
        for option in options {
            for field in option.split(separator: ",") {
                let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2 else { continue }
                out += pair[0] == "name" ? "  \(pair[1])\n" : "   \(pair[0].prefix(1).uppercased() + pair[0].dropFirst()): \(pair[1])\n"
            }
        }
        return out
    }
}
