import Testing
@testable import MoorCLI

/// Every `run` flag lands in the create body's field with Docker's encoding.
@Suite("run flags → POST /containers/create body")
struct CreateBodyTests {
    func body(_ arguments: [String], context: CreateBody.Context = CreateBody.Context()) throws -> JSON {
        let command = try RunCommand.parse(arguments + ["busybox", "sh", "-c", "echo hi"])
        return try CreateBody.make(command.flags, image: "busybox", command: Array(command.imageAndCommand.dropFirst()), context: context)
    }

    func host(_ arguments: [String]) throws -> JSON? {
        try body(arguments)["HostConfig"]
    }

    @Test("image and command after it, dash arguments included, go to Image and Cmd")
    func imageAndCommand() throws {
        let command = try RunCommand.parse(["--rm", "busybox", "ls", "-l", "-d", "--rm"])
        #expect(command.imageAndCommand == ["busybox", "ls", "-l", "-d", "--rm"])
        #expect(command.flags.autoRemove)
        #expect(!command.flags.detach)
        let body = try CreateBody.make(command.flags, image: "busybox", command: ["ls", "-l", "-d", "--rm"])
        #expect(body["Image"] == "busybox")
        #expect(body["Cmd"] == .strings(["ls", "-l", "-d", "--rm"]))
        #expect(body["Entrypoint"] == .null)
    }

    @Test("no command leaves Cmd null so the image's default runs")
    func noCommand() throws {
        let command = try RunCommand.parse(["busybox"])
        #expect(try CreateBody.make(command.flags, image: "busybox", command: [])["Cmd"] == .null)
    }

    @Test("attached run: stdout and stderr attached; -i adds stdin, OpenStdin and StdinOnce")
    func attachment() throws {
        let plain = try body([])
        #expect(plain["AttachStdout"] == .bool(true) && plain["AttachStderr"] == .bool(true))
        #expect(plain["AttachStdin"] == .bool(false) && plain["OpenStdin"] == .bool(false) && plain["StdinOnce"] == .bool(false))
        let interactive = try body(["-i"])
        #expect(interactive["AttachStdin"] == .bool(true) && interactive["OpenStdin"] == .bool(true))
        #expect(interactive["StdinOnce"] == .bool(true))
    }

    @Test("-d attaches nothing; -di keeps stdin open without attaching it")
    func detached() throws {
        let detached = try body(["-di"])
        #expect(detached["AttachStdout"] == .bool(false) && detached["AttachStderr"] == .bool(false))
        #expect(detached["AttachStdin"] == .bool(false) && detached["StdinOnce"] == .bool(false))
        #expect(detached["OpenStdin"] == .bool(true))
    }

    @Test("-t sets Tty and sends the terminal size as ConsoleSize [rows, columns]")
    func tty() throws {
        let body = try body(["-t"], context: CreateBody.Context(consoleSize: Terminal.Size(rows: 40, columns: 120)))
        #expect(body["Tty"] == .bool(true))
        #expect(body["HostConfig"]?["ConsoleSize"] == .array([.number("40"), .number("120")]))
        #expect(try self.body([])["Tty"] == .bool(false))
    }

    @Test("--rm sets AutoRemove; --name is kept for the query")
    func removeAndName() throws {
        #expect(try host(["--rm"])?["AutoRemove"] == .bool(true))
        #expect(try host([])?["AutoRemove"] == .bool(false))
        #expect(try RunCommand.parse(["--name", "web", "busybox"]).flags.name == "web")
    }

    @Test("-e K=V as is; -e K takes the local value, or stays bare when unset")
    func environment() throws {
        let context = CreateBody.Context(lookupEnv: { $0 == "HOME" ? "/root" : nil })
        let body = try body(["-e", "A=1", "--env", "B=x=y", "-e", "HOME", "-e", "UNSET"], context: context)
        #expect(body["Env"] == .strings(["A=1", "B=x=y", "HOME=/root", "UNSET"]))
        #expect(throws: CLIError.self) { try self.body(["-e", "=x"]) }
    }

    @Test("-w, -u, --hostname/-h, --entrypoint land in Config")
    func configStrings() throws {
        let body = try body(["-w", "/srv", "-u", "1000:1000", "-h", "box", "--entrypoint", "/bin/sh"])
        #expect(body["WorkingDir"] == "/srv")
        #expect(body["User"] == "1000:1000")
        #expect(body["Hostname"] == "box")
        #expect(body["Entrypoint"] == .strings(["/bin/sh"]))
        #expect(try self.body(["--hostname", "h2"])["Hostname"] == "h2")
        #expect(try self.body(["--entrypoint", ""])["Entrypoint"] == .strings([""]))
    }

    @Test("-l K=V and -l K become the Labels map")
    func labels() throws {
        #expect(try body(["-l", "a=1", "--label", "b"])["Labels"] == .map(["a": "1", "b": ""]))
        #expect(try body([])["Labels"] == .object([JSON.Member]()))
    }

    @Test("-v SRC:DST[:ro] goes to Binds, -v DST to Config.Volumes; a relative DST is refused")
    func volumes() throws {
        let body = try body(["-v", "/host:/data:ro", "-v", "named:/cache", "-v", "/anon"])
        #expect(body["HostConfig"]?["Binds"] == .strings(["/host:/data:ro", "named:/cache"]))
        #expect(body["Volumes"] == .object([JSON.Member(key: "/anon", value: .object([JSON.Member]()))]))
        let error = #expect(throws: CLIError.self) { try self.body(["-v", "/a:rel"]) }
        #expect(error?.exitCode == 125)
    }

    @Test("--tmpfs DST[:OPTIONS] becomes the Tmpfs map; --read-only sets ReadonlyRootfs")
    func tmpfsAndReadOnly() throws {
        let host = try host(["--tmpfs", "/run:size=64m,noexec", "--tmpfs", "/tmp", "--read-only"])
        #expect(host?["Tmpfs"] == .map(["/run": "size=64m,noexec", "/tmp": ""]))
        #expect(host?["ReadonlyRootfs"] == .bool(true))
        #expect(try self.host([])?["Tmpfs"] == .null)
        #expect(throws: CLIError.self) { try self.host(["--tmpfs", "run"]) }
    }

    @Test("-m/--memory and --memory-swap in bytes, binary units, -1 for unlimited swap", arguments: [
        ("32m", Int64(33_554_432)), ("1.5g", Int64(1_610_612_736)), ("512MiB", Int64(536_870_912)),
        ("100", Int64(100)), ("64k", Int64(65536)), ("1GB", Int64(1_073_741_824)),
    ])
    func memory(text: String, bytes: Int64) throws {
        #expect(try host(["-m", text])?["Memory"] == .int(bytes))
        #expect(try host(["--memory", text, "--memory-swap", text])?["MemorySwap"] == .int(bytes))
    }

    @Test("unset limits are 0, --memory-swap -1 is -1, a bad size exits 125")
    func memoryEdges() throws {
        #expect(try host([])?["Memory"] == .int(0))
        #expect(try host(["--memory-swap", "-1"])?["MemorySwap"] == .int(-1))
        let error = #expect(throws: CLIError.self) { try self.host(["-m", "32x"]) }
        #expect(error?.exitCode == 125)
        #expect(error?.message == "invalid argument \"32x\" for \"-m, --memory\" flag: invalid size: '32x'")
    }

    @Test("--cpus in nano-CPUs, exactly", arguments: [
        ("1.5", Int64(1_500_000_000)), ("2", Int64(2_000_000_000)), ("0.000000001", Int64(1)), (".5", Int64(500_000_000)),
    ])
    func cpus(text: String, nanos: Int64) throws {
        #expect(try host(["--cpus", text])?["NanoCpus"] == .int(nanos))
    }

    @Test("--cpus refuses what is not a whole number of nano-CPUs")
    func cpusErrors() throws {
        #expect(throws: CLIError.self) { try self.host(["--cpus", "0.0000000001"]) }
        #expect(throws: CLIError.self) { try self.host(["--cpus", "abc"]) }
        #expect(throws: CLIError.self) { try self.host(["--cpus", "-1"]) }
    }

    @Test("--pids-limit, --cpu-shares/-c, --cpuset-cpus")
    func cgroupNumbers() throws {
        let host = try host(["--pids-limit", "100", "--cpu-shares", "512", "--cpuset-cpus", "0-1"])
        #expect(host?["PidsLimit"] == .int(100))
        #expect(host?["CpuShares"] == .int(512))
        #expect(host?["CpusetCpus"] == "0-1")
        #expect(try self.host(["-c", "256"])?["CpuShares"] == .int(256))
        #expect(try self.host([])?["PidsLimit"] == .null)
    }

    @Test("--cap-add, --cap-drop, --privileged")
    func capabilities() throws {
        let host = try host(["--cap-add", "NET_ADMIN", "--cap-add", "SYS_TIME", "--cap-drop", "ALL", "--privileged"])
        #expect(host?["CapAdd"] == .strings(["NET_ADMIN", "SYS_TIME"]))
        #expect(host?["CapDrop"] == .strings(["ALL"]))
        #expect(host?["Privileged"] == .bool(true))
        #expect(try self.host([])?["CapAdd"] == .null)
    }

    @Test("--security-opt as typed; a seccomp profile file is sent as its compact JSON")
    func securityOptions() throws {
        let context = CreateBody.Context(readFile: { $0 == "/p.json" ? Array("{ \"defaultAction\" : \"SCMP_ACT_ALLOW\" }".utf8) : nil })
        let body = try body(["--security-opt", "no-new-privileges", "--security-opt", "seccomp=/p.json",
                             "--security-opt", "seccomp=unconfined"], context: context)
        #expect(body["HostConfig"]?["SecurityOpt"] == .strings([
            "no-new-privileges", "seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}", "seccomp=unconfined",
        ]))
        #expect(throws: CLIError.self) { try self.body(["--security-opt", "seccomp=/missing.json"]) }
    }

    @Test("--restart becomes {Name, MaximumRetryCount}", arguments: [
        ("on-failure:3", "on-failure", 3), ("always", "always", 0), ("no", "no", 0),
        ("unless-stopped", "unless-stopped", 0), ("on-failure", "on-failure", 0),
    ])
    func restart(text: String, name: String, count: Int) throws {
        #expect(try host(["--restart", text])?["RestartPolicy"] == .object([("Name", .string(name)), ("MaximumRetryCount", .int(count))]))
    }

    @Test("the default restart policy is no; bad policies and --restart with --rm are refused")
    func restartErrors() throws {
        #expect(try host([])?["RestartPolicy"]?["Name"] == "no")
        for bad in ["sometimes", "always:3", "on-failure:x", "on-failure:-1", "on-failure:1:2"] {
            #expect(throws: CLIError.self, "\(bad)") { try self.host(["--restart", bad]) }
        }
        let conflict = #expect(throws: CLIError.self) { try self.host(["--rm", "--restart", "always"]) }
        #expect(conflict?.message == "conflicting options: cannot specify both --restart and --rm")
        #expect(try host(["--rm", "--restart", "no"])?["AutoRemove"] == .bool(true))
    }

    @Test("--log-driver and --log-opt become LogConfig {Type, Config}")
    func logging() throws {
        let host = try host(["--log-driver", "local", "--log-opt", "max-size=10m", "--log-opt", "max-file=3"])
        #expect(host?["LogConfig"] == .object([("Type", "local"), ("Config", .map(["max-file": "3", "max-size": "10m"]))]))
        #expect(try self.host([])?["LogConfig"]?["Type"] == "")
        #expect(throws: CLIError.self) { try self.host(["--log-opt", "novalue"]) }
    }

    @Test("--network (and --net) set NetworkMode, default otherwise")
    func network() throws {
        #expect(try host(["--network", "none"])?["NetworkMode"] == "none")
        #expect(try host(["--net", "host"])?["NetworkMode"] == "host")
        #expect(try host([])?["NetworkMode"] == "default")
    }

    @Test("--stop-signal and --stop-timeout go to Config only when given")
    func stopSettings() throws {
        let body = try body(["--stop-signal", "SIGUSR1", "--stop-timeout", "5"])
        #expect(body["StopSignal"] == "SIGUSR1")
        #expect(body["StopTimeout"] == .int(5))
        #expect(try self.body([])["StopTimeout"] == nil)
        #expect(try self.body([])["StopSignal"] == nil)
    }

    @Test("the body is compact JSON with Config fields first, then HostConfig and NetworkingConfig")
    func encoding() throws {
        let text = JSONWriter.compact(try body(["-m", "32m"]))
        #expect(text.hasPrefix("{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\""))
        #expect(text.contains("\"Memory\":33554432"))
        #expect(text.hasSuffix("\"NetworkingConfig\":{\"EndpointsConfig\":{}}}"))
    }
}
