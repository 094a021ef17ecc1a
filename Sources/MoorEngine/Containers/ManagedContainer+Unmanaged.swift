import Foundation
import Glibc

/// A container whose shim speaks a protocol major this daemon does not, or
/// did not answer at restore: nothing is sent to the shim, but the
/// container can still be ended —
/// its processes (from its cgroup) and its shim are killed, and the exit
/// is recorded as a SIGKILL, so `docker stop`/`rm -f` work on it.
extension ManagedContainer {
    var isUnmanaged: Bool { unmanagedReason != nil }

    func killUnmanaged() async {
        reattachTask?.cancel()
        reattachTask = nil
        let cgroupsPath = SpecBuilder.cgroupsPath(of: record)
        for _ in 0..<50 {
            let pids = CgroupProcesses.pids(cgroupsPath: cgroupsPath)
            if pids.isEmpty { break }
            for pid in pids { _ = Glibc.kill(pid, SIGKILL) }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        if let shimPid = record.shim?.shimPid, shimPid > 0 {
            _ = Glibc.kill(shimPid, SIGKILL)
            await waitForShimExit(seconds: 5)
        }
        unmanagedReason = nil
        generation += 1
        await finishRun(exitCode: 128 + SIGKILL, oomKilled: false, finishedNs: nowNs(), moment: .exited)
        resumeHeldExecs()
    }
}
