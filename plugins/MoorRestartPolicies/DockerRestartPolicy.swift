import MoorPluginKit

/// Docker's restart policies, as dockerd applies them (its restart manager
/// while it runs, and its restore at start-up).
///
/// | policy          | exited, stopped by user | exited by itself         | daemon start, user had stopped it | daemon start, otherwise |
/// |-----------------|-------------------------|--------------------------|-----------------------------------|-------------------------|
/// | no              | leave                   | leave                    | leave                             | leave                   |
/// | always          | leave                   | restart after backoff    | restart now                       | restart now             |
/// | unless-stopped  | leave                   | restart after backoff    | leave                             | restart now             |
/// | on-failure[:N]  | leave                   | if failed*, after backoff| if failed*, now                   | if failed*, now         |
///
/// *failed: exit code ≠ 0 and, when N > 0, fewer than N restarts so far.
///
/// Why each cell is so, from dockerd's code:
/// - `docker stop`/`kill` cancel the container's restart manager, so while
///   the daemon runs no policy restarts a container the user stopped.
/// - At start-up dockerd asks the same question with the stored exit code
///   and "has been manually stopped" flag, and starts at once (no backoff)
///   the containers whose policy says yes. `always` does not look at the
///   flag: a user-stopped `always` container comes back when the daemon
///   restarts or the host reboots (Docker's documented behaviour). Only
///   `unless-stopped` honours the flag. `on-failure` looks at the exit code
///   only, so a user-stopped one (exit 137 or 143) is restarted at daemon
///   start, as in Docker (moby#35166).
/// - The caller must not mark as "stopped by user" the containers it stops
///   itself while shutting down (live restore off): dockerd does not, so an
///   `unless-stopped` container comes back with the daemon.
/// - At start-up dockerd restarts with the restart count and backoff reset;
///   the engine resets both when it acts on a `.daemonStart` restart.
public struct DockerRestartPolicy: RestorePolicy {
    public enum Name: String, Sendable, CaseIterable {
        case no
        case always
        case unlessStopped = "unless-stopped"
        case onFailure = "on-failure"
    }

    public let name: Name

    public init(_ name: Name) {
        self.name = name
    }

    /// dockerd's checks and messages: a retry count only with `on-failure`,
    /// never negative (0 means no limit).
    public func validate(maximumRetryCount: Int) throws {
        switch name {
        case .onFailure where maximumRetryCount < 0:
            throw invalid("maximum retry count cannot be negative")
        case .onFailure:
            return
        case .no, .always, .unlessStopped:
            guard maximumRetryCount != 0 else { return }
            throw invalid("maximum retry count can only be used with 'on-failure'"
                + (maximumRetryCount < 0 ? " and cannot be negative" : ""))
        }
    }

    public func decide(_ situation: RestoreSituation) -> RestoreDecision {
        guard wantsRestart(situation) else { return .leaveStopped }
        switch situation.moment {
        case .daemonStart:
            return .restart(delayNs: 0)
        case .exited:
            return .restart(delayNs: RestartBackoff.nextDelay(previousDelayNs: situation.previousDelayNs,
                                                              runDurationNs: situation.runDurationNs))
        }
    }

    private func wantsRestart(_ situation: RestoreSituation) -> Bool {
        if situation.moment == .exited && situation.stoppedByUser { return false }
        switch name {
        case .no:
            return false
        case .always:
            return true
        case .unlessStopped:
            return !situation.stoppedByUser
        case .onFailure:
            let limit = situation.maximumRetryCount
            return situation.exitCode != 0 && (limit <= 0 || situation.restartCount < limit)
        }
    }

    private func invalid(_ reason: String) -> RestorePolicyError {
        .invalidParameter(policy: name.rawValue, reason: reason)
    }
}

/// The four policies, registered under the names users give to `--restart`.
public enum RestartPolicies {
    public static var registrations: [PluginRegistration] {
        DockerRestartPolicy.Name.allCases.map { name in
            PluginRegistration(.restore, id: name.rawValue) { _ in DockerRestartPolicy(name) }
        }
    }
}
