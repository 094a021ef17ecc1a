import Foundation
import Testing
@testable import MoorShimClient

/// The shim outlives whoever started it and leaves its starter's cgroup.
@Suite(.serialized) struct ShimDetachTests {
    @Test func killingTheStarterAndItsProcessGroupLeavesShimAndContainerRunning() throws {
        let c = try TestContainer(["sleep", "1000"])
        defer { c.remove() }
        // A starter in its own process group that lingers after the start,
        // like a daemon that is then killed with its whole group.
        let args = ["start", "--id", c.id, "--bundle", c.bundle, "--state-dir", c.stateDir,
                    "--lower", TestEnvironment.busyboxRootfs, "--upper", c.dir + "/upper",
                    "--work", c.dir + "/work", "--shim-cgroup", c.shimCgroupParent + "/" + c.id]
        let quoted = args.map { "'\($0)'" }.joined(separator: " ")
        // posix_spawn, not Process: the child is no group leader, so setsid
        // execs sh in place (same pid), and waitpid reliably reaps it.
        let starter = try ChildProcess.spawn("/usr/bin/setsid",
            ["sh", "-c", "\(TestEnvironment.shimBinary) \(quoted) > \(c.dir)/started.json; sleep 1000"])
        #expect(TestEnvironment.eventually(10) {
            ((try? String(contentsOfFile: c.dir + "/started.json", encoding: .utf8)) ?? "").contains("shim_pid")
        })
        let hello = try c.client().hello()
        let shimPid = Int32(hello.shimPid), initPid = Int32(hello.initPid)
        let pgid = getpgid(starter.pid)
        #expect(pgid == starter.pid)
        kill(-pgid, SIGKILL)
        _ = try starter.wait()
        usleep(200_000)
        #expect(TestEnvironment.isAlive(shimPid))
        #expect(TestEnvironment.isAlive(initPid))
        #expect(getpgid(shimPid) != pgid)
        #expect(try c.client().state(process: 0).status == .running)
        // Out of the starter's cgroup: in its own, in every hierarchy.
        let cgroups = try String(contentsOfFile: "/proc/\(shimPid)/cgroup", encoding: .utf8)
        let memoryLine = cgroups.split(separator: "\n").first { $0.contains(":memory:") }
        #expect(memoryLine?.hasSuffix(c.shimCgroupParent + "/" + c.id) == true, "\(cgroups)")
        // Clean up through the shim, as a daemon would.
        try c.client().shutdown(kill: true)
        #expect(TestEnvironment.eventually(5) { !TestEnvironment.isAlive(shimPid) })
    }

    @Test func theShimReapsOrphansSoNoZombiesRemain() throws {
        let c = try TestContainer(["sh", "-c", "sleep 1000"])
        defer { c.remove() }
        try c.start()
        let client = try c.client()
        // An exec that leaves a background child behind when it exits.
        let e = try client.exec(processJSON: #"{"args":["sh","-c","sleep 0.2 & exit 0"],"cwd":"/"}"#, stdin: false)
        _ = try client.wait(process: e.process)
        usleep(600_000)
        let children = (try? String(contentsOfFile: "/proc/\(c.shimPid)/task/\(c.shimPid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ") {
            let stat = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
            #expect(!stat.contains(") Z "), "zombie child \(child) of the shim")
        }
    }
}
