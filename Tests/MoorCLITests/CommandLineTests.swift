import Testing
@testable import MoorCLI

@Suite("host selection, argument handling, exit codes")
struct CommandLineTests {
    @Test("-H wins, then MOOR_HOST, then a unix DOCKER_HOST, then /run/moor.sock")
    func hostOrder() {
        let env = ["MOOR_HOST": "unix:///m.sock", "DOCKER_HOST": "unix:///d.sock"]
        #expect(DaemonHost.url(flag: "unix:///f.sock", environment: env) == "unix:///f.sock")
        #expect(DaemonHost.url(flag: nil, environment: env) == "unix:///m.sock")
        #expect(DaemonHost.url(flag: nil, environment: ["DOCKER_HOST": "unix:///d.sock"]) == "unix:///d.sock")
        #expect(DaemonHost.url(flag: nil, environment: ["DOCKER_HOST": "tcp://1.2.3.4:2375"]) == "unix:///run/moor.sock")
        #expect(DaemonHost.url(flag: nil, environment: [:]) == "unix:///run/moor.sock")
    }

    @Test("socket paths: unix:// URLs and bare absolute paths; other schemes refused")
    func socketPaths() throws {
        #expect(try DaemonHost.socketPath("unix:///tmp/c/moor.sock") == "/tmp/c/moor.sock")
        #expect(try DaemonHost.socketPath("/run/moor.sock") == "/run/moor.sock")
        #expect(throws: CLIError.self) { try DaemonHost.socketPath("tcp://localhost:2375") }
        #expect(throws: CLIError.self) { try DaemonHost.socketPath("unix://relative.sock") }
    }

    @Test("global -H before the verb moves after it")
    func reorder() {
        #expect(GlobalOptions.reorder(["-H", "unix:///s", "ps", "-a"]) == ["ps", "-H", "unix:///s", "-a"])
        #expect(GlobalOptions.reorder(["--host=unix:///s", "run", "busybox"]) == ["run", "--host=unix:///s", "busybox"])
        #expect(GlobalOptions.reorder(["run", "-H", "x", "busybox"]) == ["run", "-H", "x", "busybox"])
        #expect(GlobalOptions.reorder(["-H"]) == ["-H"])
    }

    @Test("-H parses on every verb")
    func hostFlag() throws {
        let ps = try MoorCommand.parseAsRoot(GlobalOptions.reorder(["-H", "unix:///x.sock", "ps", "-aq"]))
        let command = try #require(ps as? PsCommand)
        #expect(command.global.host == "unix:///x.sock")
        #expect(command.all && command.quiet)
    }

    @Test("exec keeps the command's own flags")
    func execArguments() throws {
        let exec = try ExecCommand.parse(["-e", "A=1", "-u", "nobody", "web", "ls", "-la", "-e"])
        #expect(exec.containerAndCommand == ["web", "ls", "-la", "-e"])
        let body = try exec.body()
        #expect(body["Cmd"] == .strings(["ls", "-la", "-e"]))
        #expect(body["Env"] == .strings(["A=1"]))
        #expect(body["User"] == "nobody")
        #expect(body["AttachStdout"] == .bool(true) && body["AttachStdin"] == .bool(false))
        let detached = try ExecCommand.parse(["-d", "-i", "-t", "-w", "/tmp", "web", "sleep", "1"]).body()
        #expect(detached["Detach"] == .bool(true) && detached["AttachStdout"] == .bool(false))
        #expect(detached["Tty"] == .bool(true) && detached["WorkingDir"] == "/tmp")
    }

    @Test("start failures: not found is 127, cannot execute is 126, anything else 125", arguments: [
        ("exec: \"nope\": executable file not found in $PATH", Int32(127)),
        ("cannot start /bin/nope: No such file or directory", Int32(127)),
        ("exec /etc: permission denied", Int32(126)), ("exec /etc: is a directory", Int32(126)),
        ("cgroup setup failed", Int32(125)),
    ])
    func startFailure(message: String, code: Int32) {
        #expect(RunCommand.startFailureCode(message) == code)
    }

    @Test("ps --filter K=V becomes the API's filters JSON")
    func filters() throws {
        #expect(try PsCommand.filters([]) == nil)
        #expect(try PsCommand.filters(["status=exited", "name=web", "status=created"])
            == "{\"name\":{\"web\":true},\"status\":{\"exited\":true,\"created\":true}}")
        #expect(throws: CLIError.self) { try PsCommand.filters(["novalue"]) }
    }

    @Test("import: REPO[:TAG] in repo=, changes repeated, message; uppercase refused")
    func importQuery() throws {
        let query = try ImportCommand.query(reference: "local/bb:v1", changes: ["CMD [\"sh\"]", "ENV A=1"], message: "m", platform: nil)
        #expect(query.string("fromSrc") == "-")
        #expect(query.string("repo") == "local/bb:v1")
        #expect(query.strings("changes") == ["CMD [\"sh\"]", "ENV A=1"])
        #expect(query.string("message") == "m")
        #expect(throws: CLIError.self) { try ImportCommand.query(reference: "Local/BB", changes: [], message: nil, platform: nil) }
        #expect(try ImportCommand.statusLines("{\"status\":\"sha256:abc\"}\n") == "sha256:abc\n")
        #expect(throws: CLIError.self) { try ImportCommand.statusLines("{\"errorDetail\":{\"message\":\"bad tar\"},\"error\":\"bad tar\"}\n") }
    }

    @Test("the import progress line")
    func progress() {
        #expect(ProgressLine.text(sent: 1_500_000, total: 4_000_000) == "Importing  1.5MB/4MB")
        #expect(ProgressLine.text(sent: 2048, total: nil) == "Importing  2.05kB")
    }

    @Test("run without an image, or with an unknown flag, is a usage error (125)")
    func runUsage() async {
        // 125 is also what `run` answers when no daemon is there: each case
        // must fail on its arguments, before any connection is tried.
        #expect(throws: (any Error).self) { _ = try MoorCommand.parseAsRoot(["ps", "--no-such-flag"]) }
        #expect(await MoorCLI.run(["ps", "--no-such-flag"]) == 125)
        for (arguments, message) in [(["run", "-H", "unix:///nonexistent.sock"], "\"moor run\" requires at least 1 argument."),
                                     (["run", "--no-such-flag", "busybox"], "unknown flag: --no-such-flag")] {
            // run's flags end at the image: an unknown one is seen there.
            let parsed = try? MoorCommand.parseAsRoot(GlobalOptions.reorder(arguments))
            guard let command = parsed as? RunCommand else {
                Issue.record("\(arguments) did not parse as run")
                continue
            }
            await #expect(throws: CLIError.self) {
                do {
                    try await command.run()
                } catch let error as CLIError {
                    #expect(error.message == message && error.exitCode == 125, "\(arguments): \(error.message)")
                    throw error
                }
            }
            #expect(await MoorCLI.run(arguments) == 125, "\(arguments)")
        }
    }

    @Test("a daemon that is not there: 1 for ps, 125 for run")
    func noDaemon() async {
        #expect(await MoorCLI.run(["-H", "unix:///nonexistent/moor.sock", "ps"]) == 1)
        #expect(await MoorCLI.run(["-H", "unix:///nonexistent/moor.sock", "run", "busybox"]) == 125)
    }
}
