import Foundation
import Testing
@testable import MoorShimClient

/// The shim runs real containers on the busybox image: exit codes, signals,
/// exec, stdin, the exit record, and what a failed start leaves (nothing).
@Suite(.serialized) struct ShimLifecycleTests {
    @Test func exitCodeIsReportedAndRecorded() throws {
        let c = try TestContainer(["sh", "-c", "echo out; echo err >&2; exit 3"])
        defer { c.remove() }
        try c.start()
        let state = try c.waitExit()
        #expect(state.status == .exited)
        #expect(state.exitCode == 3)
        #expect(state.signal == 0)
        let record = try c.exitRecord()
        #expect(record.exitCode == 3)
        #expect(record.finishedNs >= record.startedNs)
        #expect(try c.output(stream: .stdout) == "out\n")
        #expect(try c.output(stream: .stderr) == "err\n")
    }

    @Test func killedBySignalExitsWith128PlusSignal() throws {
        let c = try TestContainer(["sleep", "1000"])
        defer { c.remove() }
        try c.start()
        try c.client().signal(process: 0, signal: SIGKILL, all: false)
        let state = try c.waitExit()
        #expect(state.exitCode == 137)
        #expect(state.signal == SIGKILL)
        #expect(try c.exitRecord().signal == SIGKILL)
    }

    @Test func initIsPid1InItsOwnPidNamespace() throws {
        let c = try TestContainer(["sh", "-c", "echo $$; ps -o pid | wc -l"])
        defer { c.remove() }
        try c.start()
        _ = try c.waitExit()
        let lines = try c.output().split(separator: "\n")
        #expect(lines.first == "1")
    }

    @Test func exitIsRecordedWhileNoClientIsConnected() throws {
        let c = try TestContainer(["sh", "-c", "sleep 0.5; exit 7"])
        defer { c.remove() }
        try c.start()
        // Nobody connects: the record must appear on disk by itself.
        #expect(TestEnvironment.eventually(10) { (try? c.exitRecord().exitCode) == 7 })
        let state = try c.client().state(process: 0)
        #expect(state.status == .exited && state.exitCode == 7)
        #expect(TestEnvironment.isAlive(c.shimPid), "the shim keeps the output until told to shut down")
    }

    @Test func stdinFromTheControlSocketReachesTheContainer() throws {
        let c = try TestContainer(["sh", "-c", "read line; echo got:$line; cat"])
        defer { c.remove() }
        try c.start(stdin: true)
        let client = try c.client()
        var sent = 0
        let input = Array("hello\nrest\n".utf8)
        while sent < input.count {
            sent += try client.writeStdin(process: 0, bytes: Array(input[sent...]))
        }
        try client.closeStdin(process: 0)
        let state = try c.waitExit()
        #expect(state.exitCode == 0)
        #expect(try c.output() == "got:hello\nrest\n")
    }

    @Test func execRunsInsideTheContainerWithItsOwnSpoolAndExit() throws {
        let c = try TestContainer(["sleep", "1000"])
        defer { c.remove() }
        try c.start()
        let client = try c.client()
        let started = try client.exec(processJSON: #"{"args":["sh","-c","echo $$ in $(hostname); exit 5"],"cwd":"/","env":["PATH=/bin"]}"#, stdin: false)
        #expect(started.process == 1)
        let state = try client.wait(process: started.process)
        #expect(state.exitCode == 5)
        let out = try c.output(process: started.process)
        #expect(out.hasSuffix(" in moor\n"), "exec shares the container's uts namespace: \(out)")
        #expect(!out.hasPrefix("1 "), "exec is not the container's pid 1")
        #expect(try ExitRecord.read(path: c.stateDir + "/exec-1/exit").exitCode == 5)
    }

    @Test func execOfAMissingProgramFailsWithNotFound() throws {
        let c = try TestContainer(["sleep", "1000"])
        defer { c.remove() }
        try c.start()
        #expect {
            _ = try c.client().exec(processJSON: #"{"args":["no-such-program"],"cwd":"/"}"#, stdin: false)
        } throws: { error in
            guard let e = error as? ShimError else { return false }
            return e.code == ENOENT && e.message.contains("no-such-program")
        }
        // The container is untouched by the failed exec.
        #expect(try c.client().state(process: 0).status == .running)
    }

    @Test func missingExecutableFailsStartWith127AndLeavesNothing() throws {
        let c = try TestContainer(["/no/such/binary"])
        defer { c.remove() }
        let mountsBefore = TestEnvironment.mountTable()
        #expect {
            try c.start()
        } throws: { error in
            guard let e = error as? ShimError else { return false }
            return e.exitStatus == 127 && e.message.contains("/no/such/binary")
        }
        #expect(!FileManager.default.fileExists(atPath: c.stateDir), "state dir removed")
        for dir in c.cgroupDirs { #expect(!FileManager.default.fileExists(atPath: dir), "\(dir) removed") }
        #expect(TestEnvironment.mountTable() == mountsBefore)
    }

    @Test func malformedConfigIsRefusedNamingTheFieldBeforeAnythingIsCreated() throws {
        let c = try TestContainer(["true"]) { spec in
            var linux = spec["linux"] as? [String: Any] ?? [:]
            linux["resources"] = ["memory": ["limit": "lots"]]
            spec["linux"] = linux
        }
        defer { c.remove() }
        #expect {
            try c.start()
        } throws: { error in
            (error as? ShimError)?.message.contains("linux.resources.memory.limit") == true
        }
        #expect(!FileManager.default.fileExists(atPath: c.stateDir))
        for dir in c.cgroupDirs { #expect(!FileManager.default.fileExists(atPath: dir)) }
    }

    @Test func shutdownRemovesSocketAndCgroupsButKeepsSpoolAndExit() throws {
        let c = try TestContainer(["sh", "-c", "echo bye"])
        defer { c.remove() }
        try c.start()
        _ = try c.waitExit()
        try c.client().shutdown(kill: false)
        #expect(TestEnvironment.eventually(5) { !TestEnvironment.isAlive(c.shimPid) })
        #expect(!FileManager.default.fileExists(atPath: c.socketPath))
        for dir in c.cgroupDirs { #expect(!FileManager.default.fileExists(atPath: dir), "\(dir) removed") }
        #expect(try c.exitRecord().exitCode == 0)
        #expect(FileManager.default.fileExists(atPath: c.stateDir + "/spool"))
    }

    @Test func shutdownOfARunningContainerNeedsTheKillFlag() throws {
        let c = try TestContainer(["sleep", "1000"])
        defer { c.remove() }
        try c.start()
        #expect { try c.client().shutdown(kill: false) } throws: { ($0 as? ShimError)?.code == EBUSY }
        try c.client().shutdown(kill: true)
        #expect(TestEnvironment.eventually(5) { !TestEnvironment.isAlive(c.pid) && !TestEnvironment.isAlive(c.shimPid) })
        #expect(try c.exitRecord().signal == SIGKILL)
    }

    @Test func terminalGivesTheContainerATtyThatCanBeResized() throws {
        let c = try TestContainer(["sh", "-c", "sleep 0.5; test -t 0 && test -t 1 && echo isatty; stty size"], terminal: true)
        defer { c.remove() }
        try c.start()
        try c.client().resize(process: 0, rows: 33, cols: 101)
        _ = try c.waitExit()
        let out = try c.output()
        #expect(out.contains("isatty"))
        #expect(out.contains("33 101"))
    }
}
