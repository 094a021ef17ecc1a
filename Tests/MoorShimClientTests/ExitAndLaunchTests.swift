import Foundation
import Testing
@testable import MoorShimClient

/// The exit record file and `moor-shim start`'s output contract.
@Suite struct ExitRecordTests {
    @Test func exitRecordDecodesTheShimsJSON() throws {
        let dir = try TempDir()
        let path = try dir.file("exit", #"{"pid":4242,"exit_code":137,"signal":9,"oom_killed":true,"started_ns":1700000000000000000,"finished_ns":1700000001000000000}"#)
        let record = try ExitRecord.read(path: path)
        #expect(record == ExitRecord(pid: 4242, exitCode: 137, signal: 9, oomKilled: true,
                                     startedNs: 1_700_000_000_000_000_000, finishedNs: 1_700_000_001_000_000_000))
    }

    @Test func missingExitRecordIsENOENTNamingThePath() throws {
        let dir = try TempDir()
        let error = shimError { _ = try ExitRecord.read(path: dir.path + "/exit") }
        #expect(error?.code == ENOENT)
        #expect(error?.context == dir.path + "/exit")
    }

    @Test(arguments: [
        ("{\"pid\":1,", "not valid JSON"),
        ("", "not valid JSON"),
        (#"{"pid":1,"exit_code":0,"signal":0,"oom_killed":false,"started_ns":1}"#, "missing field \"finished_ns\""),
        (#"{"pid":1,"exit_code":"0","signal":0,"oom_killed":false,"started_ns":1,"finished_ns":2}"#, "field \"exit_code\""),
        (#"{"pid":1,"exit_code":0,"signal":0,"oom_killed":false,"started_ns":-1,"finished_ns":2}"#, "field \"started_ns\""),
        ("[1,2]", "expected"),
    ])
    func malformedExitRecordIsEPROTONamingPathAndField(json: String, expected: String) throws {
        let dir = try TempDir()
        let path = try dir.file("exit", json)
        let error = shimError { _ = try ExitRecord.read(path: path) }
        #expect(error?.code == EPROTO)
        #expect(error?.context == path)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }
}

@Suite struct LauncherTests {
    @Test func optionsBecomeTheDocumentedCommandLine() {
        var options = ShimStartOptions(id: "c1", bundle: "/b", stateDir: "/s")
        #expect(options.arguments == ["start", "--id", "c1", "--bundle", "/b", "--state-dir", "/s"])
        options.socketPath = "/s/x.sock"
        options.spoolDir = "/spool"
        options.spoolMax = 1 << 20
        options.lowerDirs = ["/l1", "/l2"]
        options.upperDir = "/u"
        options.workDir = "/w"
        options.stdin = true
        options.shimCgroup = "/shims/c1"
        #expect(options.arguments == [
            "start", "--id", "c1", "--bundle", "/b", "--state-dir", "/s", "--socket", "/s/x.sock",
            "--spool-dir", "/spool", "--spool-max", "1048576", "--lower", "/l1", "--lower", "/l2",
            "--upper", "/u", "--work", "/w", "--stdin", "--shim-cgroup", "/shims/c1",
        ])
    }

    @Test func successPrintsOneJSONLine() throws {
        let started = try ShimLauncher.outcome(
            status: 0, stdout: Array("{\"shim_pid\":10,\"pid\":11,\"socket\":\"/s/shim.sock\"}\n".utf8), stderr: [], id: "c1")
        #expect(started == ShimStarted(shimPid: 10, pid: 11, socket: "/s/shim.sock"))
    }

    @Test func failureKeepsTheShimsMessageAndStatus() {
        let error = shimError {
            _ = try ShimLauncher.outcome(status: 127, stdout: [],
                                         stderr: Array("moor-shim: exec \"/no/such/binary\": No such file or directory\n".utf8), id: "c1")
        }
        #expect(error == ShimError(code: ENOENT, message: "exec \"/no/such/binary\": No such file or directory",
                                   context: "c1", exitStatus: 127))
        let usage = shimError { _ = try ShimLauncher.outcome(status: 2, stdout: [], stderr: [], id: "c1") }
        #expect(usage?.code == EINVAL && usage?.exitStatus == 2)
        #expect(usage?.message.contains("status 2") == true)
    }

    @Test func successWithGarbageOutputIsEPROTO() {
        let error = shimError { _ = try ShimLauncher.outcome(status: 0, stdout: Array("ready\n".utf8), stderr: [], id: "c1") }
        #expect(error?.code == EPROTO)
        #expect(error?.message.contains("\"ready\"") == true)
    }

    /// A stand-in shim: a script with moor-shim's output contract.
    @Test func startRunsTheBinaryAndPassesTheArguments() throws {
        let dir = try TempDir()
        let argsFile = dir.path + "/args"
        let shim = try dir.file("fake-shim", """
            #!/bin/sh
            printf '%s\\n' "$@" > \(argsFile)
            echo '{"shim_pid":77,"pid":78,"socket":"/x/shim.sock"}'
            """, mode: 0o755)
        var options = ShimStartOptions(id: "c1", bundle: "/b", stateDir: "/s")
        options.stdin = true
        let started = try ShimLauncher(shimPath: shim).start(options)
        #expect(started == ShimStarted(shimPid: 77, pid: 78, socket: "/x/shim.sock"))
        let args = try String(contentsOfFile: argsFile, encoding: .utf8)
        #expect(args == options.arguments.joined(separator: "\n") + "\n")
    }

    @Test func startFailureCarriesStderrAndExitStatus() throws {
        let dir = try TempDir()
        let shim = try dir.file("fake-shim", """
            #!/bin/sh
            echo 'moor-shim: exec "/no/such/binary": No such file or directory' >&2
            exit 127
            """, mode: 0o755)
        let error = shimError { _ = try ShimLauncher(shimPath: shim).start(ShimStartOptions(id: "c9", bundle: "/b", stateDir: "/s")) }
        #expect(error?.exitStatus == 127)
        #expect(error?.context == "c9")
        #expect(error?.message == "exec \"/no/such/binary\": No such file or directory")
    }

    /// The real shim detaches a child; should one keep the starter's
    /// stdout open, start must still return when the starter exits.
    @Test func startDoesNotWaitForDescendantsHoldingItsOutput() throws {
        let dir = try TempDir()
        let pidFile = dir.path + "/lingering.pid"
        let shim = try dir.file("fake-shim", """
            #!/bin/sh
            sleep 600 &
            echo $! > \(pidFile)
            echo '{"shim_pid":1,"pid":2,"socket":"/x"}'
            """, mode: 0o755)
        defer {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
        }
        #expect(try ShimLauncher(shimPath: shim).start(ShimStartOptions(id: "c1", bundle: "/b", stateDir: "/s")).shimPid == 1)
    }

    @Test func starterKilledBySignalIsReported() throws {
        let dir = try TempDir()
        let shim = try dir.file("fake-shim", "#!/bin/sh\nkill -9 $$\n", mode: 0o755)
        let error = shimError { _ = try ShimLauncher(shimPath: shim).start(ShimStartOptions(id: "c1", bundle: "/b", stateDir: "/s")) }
        #expect(error?.message.contains("signal 9") == true, "\(String(describing: error))")
        #expect(error?.exitStatus == nil)
    }

    @Test func childProcessCapturesBothStreamsAndTheStatus() throws {
        let output = try ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; read x || echo eof; exit 4"])
        #expect(output.termination == .exited(4))
        #expect(output.stdout == Array("out\neof\n".utf8), "stdin is /dev/null")
        #expect(output.stderr == Array("err\n".utf8))
        #expect(try ChildProcess.run("/bin/sh", ["-c", "kill -TERM $$"]).termination == .signaled(SIGTERM))
    }

    @Test func missingShimBinaryIsNamed() throws {
        let dir = try TempDir()
        let error = shimError { _ = try ShimLauncher(shimPath: dir.path + "/nope").start(ShimStartOptions(id: "c1", bundle: "/b", stateDir: "/s")) }
        #expect(error?.code == ENOENT)
        #expect(error?.message.contains(dir.path + "/nope") == true)
        #expect(error?.exitStatus == nil)
    }
}
