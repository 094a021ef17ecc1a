import MoorPluginKit
import Testing

/// Docker's restart policies, case by case as dockerd decides them.
@Suite struct RestartPolicyTests {
    struct Case: CustomStringConvertible, Sendable {
        var policy: String
        var moment: RestoreSituation.Moment
        var exitCode: Int32
        var stoppedByUser = false
        var restartCount = 0
        var maximumRetryCount = 0
        var restarts: Bool

        var description: String {
            "\(policy) \(moment) exit \(exitCode) user-stop \(stoppedByUser) count \(restartCount)/\(maximumRetryCount)"
        }
    }

    static let cases: [Case] = [
        // no: never.
        Case(policy: "no", moment: .exited, exitCode: 1, restarts: false),
        Case(policy: "no", moment: .exited, exitCode: 0, restarts: false),
        Case(policy: "no", moment: .daemonStart, exitCode: 1, restarts: false),
        Case(policy: "no", moment: .daemonStart, exitCode: 0, restarts: false),
        // always: whatever the exit code; not after a user stop while the
        // daemon runs, but at daemon start even then.
        Case(policy: "always", moment: .exited, exitCode: 0, restarts: true),
        Case(policy: "always", moment: .exited, exitCode: 3, restarts: true),
        Case(policy: "always", moment: .exited, exitCode: 137, stoppedByUser: true, restarts: false),
        Case(policy: "always", moment: .daemonStart, exitCode: 0, restarts: true),
        Case(policy: "always", moment: .daemonStart, exitCode: 143, stoppedByUser: true, restarts: true),
        // unless-stopped: like always, but never after a user stop.
        Case(policy: "unless-stopped", moment: .exited, exitCode: 0, restarts: true),
        Case(policy: "unless-stopped", moment: .exited, exitCode: 1, restarts: true),
        Case(policy: "unless-stopped", moment: .exited, exitCode: 143, stoppedByUser: true, restarts: false),
        Case(policy: "unless-stopped", moment: .daemonStart, exitCode: 0, restarts: true),
        Case(policy: "unless-stopped", moment: .daemonStart, exitCode: 143, stoppedByUser: true, restarts: false),
        // on-failure: a non-zero exit code, within the retry count (0: no limit).
        Case(policy: "on-failure", moment: .exited, exitCode: 0, restarts: false),
        Case(policy: "on-failure", moment: .exited, exitCode: 1, restarts: true),
        Case(policy: "on-failure", moment: .exited, exitCode: 1, restartCount: 500, restarts: true),
        Case(policy: "on-failure", moment: .exited, exitCode: 137, stoppedByUser: true, restarts: false),
        Case(policy: "on-failure", moment: .exited, exitCode: 1, restartCount: 2, maximumRetryCount: 3, restarts: true),
        Case(policy: "on-failure", moment: .exited, exitCode: 1, restartCount: 3, maximumRetryCount: 3, restarts: false),
        Case(policy: "on-failure", moment: .daemonStart, exitCode: 0, restarts: false),
        Case(policy: "on-failure", moment: .daemonStart, exitCode: 1, restarts: true),
        Case(policy: "on-failure", moment: .daemonStart, exitCode: 1, restartCount: 3, maximumRetryCount: 3,
             restarts: false),
        // dockerd looks only at the exit code here (moby#35166).
        Case(policy: "on-failure", moment: .daemonStart, exitCode: 137, stoppedByUser: true, restarts: true),
    ]

    @Test(arguments: cases)
    func decides(_ item: Case) async throws {
        let policy = try await restorePolicy(item.policy)
        let decision = policy.decide(RestoreSituation(
            moment: item.moment, exitCode: item.exitCode, stoppedByUser: item.stoppedByUser,
            restartCount: item.restartCount, maximumRetryCount: item.maximumRetryCount,
            runDurationNs: 1_000_000, previousDelayNs: 0))
        switch (item.restarts, item.moment) {
        case (false, _): #expect(decision == .leaveStopped)
        // dockerd starts them at once when it starts, after a backoff otherwise.
        case (true, .daemonStart): #expect(decision == .restart(delayNs: 0))
        case (true, .exited): #expect(decision == .restart(delayNs: 100_000_000))
        }
    }

    @Test func backoffDoublesFromOneTenthOfASecondUpToAMinute() async throws {
        let policy = try await restorePolicy("always")
        var previous: Int64 = 0
        var delays: [Int64] = []
        for _ in 0..<12 {
            guard case let .restart(delay) = policy.decide(exit(previousDelayNs: previous, runNs: 2_000_000_000)) else {
                Issue.record("always did not restart")
                return
            }
            delays.append(delay)
            previous = delay
        }
        let ms: Int64 = 1_000_000
        #expect(delays == [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000].map { $0 * ms })
    }

    @Test func aRunOfTenSecondsResetsTheBackoff() async throws {
        let policy = try await restorePolicy("on-failure")
        let ms: Int64 = 1_000_000
        #expect(policy.decide(exit(previousDelayNs: 51_200 * ms, runNs: 10_000 * ms)) == .restart(delayNs: 100 * ms))
        #expect(policy.decide(exit(previousDelayNs: 51_200 * ms, runNs: 9_999 * ms)) == .restart(delayNs: 60_000 * ms))
        #expect(policy.decide(exit(previousDelayNs: 60_000 * ms, runNs: 3_600_000 * ms)) == .restart(delayNs: 100 * ms))
    }

    @Test func validatesTheRetryCountAsDockerd() async throws {
        for id in ["no", "always", "unless-stopped", "on-failure"] {
            try await restorePolicy(id).validate(maximumRetryCount: 0)
        }
        try await restorePolicy("on-failure").validate(maximumRetryCount: 5)

        let refused: [(String, Int, String)] = [
            ("on-failure", -1, "restart policy on-failure: maximum retry count cannot be negative"),
            ("always", 3, "restart policy always: maximum retry count can only be used with 'on-failure'"),
            ("no", 1, "restart policy no: maximum retry count can only be used with 'on-failure'"),
            ("unless-stopped", -2,
             "restart policy unless-stopped: maximum retry count can only be used with 'on-failure' and cannot be negative"),
        ]
        for (id, count, message) in refused {
            let policy = try await restorePolicy(id)
            do {
                try policy.validate(maximumRetryCount: count)
                Issue.record("\(id) accepted a retry count of \(count)")
            } catch let error as RestorePolicyError {
                #expect(error.description == message)
            }
        }
    }

    private func exit(previousDelayNs: Int64, runNs: Int64) -> RestoreSituation {
        RestoreSituation(moment: .exited, exitCode: 1, stoppedByUser: false, restartCount: 0, maximumRetryCount: 0,
                         runDurationNs: runNs, previousDelayNs: previousDelayNs)
    }
}
