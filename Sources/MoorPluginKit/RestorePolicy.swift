/// `moor.restore.v1`: what happens to a container that stopped — when it
/// exits while the daemon runs, when a starting daemon learns it exited
/// during the downtime, or finds its shim gone after a host reboot.
/// Docker's restart policies (`no`, `always`, `unless-stopped`,
/// `on-failure[:N]`) are the built-in ones; the policy's id is the name a
/// user gives in `--restart`.
public protocol RestorePolicy: Sendable {
    /// Checks the policy's parameters (`on-failure:N` → N) before a
    /// container is created.
    func validate(maximumRetryCount: Int) throws
    func decide(_ situation: RestoreSituation) -> RestoreDecision
}

public struct RestoreSituation: Sendable, Equatable {
    public enum Moment: Sendable, Equatable {
        /// The container exited while the daemon ran.
        case exited
        /// A starting daemon found the container stopped (it exited during
        /// the downtime, or its shim is gone after a reboot).
        case daemonStart
    }

    public var moment: Moment
    public var exitCode: Int32
    /// `docker stop`/`kill` by a user (not the container exiting by itself).
    public var stoppedByUser: Bool
    public var restartCount: Int
    public var maximumRetryCount: Int
    /// How long the last run lasted; a run of 10 s or more resets the backoff.
    public var runDurationNs: Int64
    /// The delay before the previous restart, 0 if none.
    public var previousDelayNs: Int64

    public init(moment: Moment, exitCode: Int32, stoppedByUser: Bool, restartCount: Int, maximumRetryCount: Int,
                runDurationNs: Int64, previousDelayNs: Int64) {
        self.moment = moment
        self.exitCode = exitCode
        self.stoppedByUser = stoppedByUser
        self.restartCount = restartCount
        self.maximumRetryCount = maximumRetryCount
        self.runDurationNs = runDurationNs
        self.previousDelayNs = previousDelayNs
    }
}

public enum RestoreDecision: Sendable, Equatable {
    case leaveStopped
    /// Start it again after `delayNs`; the delay is recorded for the next backoff.
    case restart(delayNs: Int64)
}

public enum RestorePolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidParameter(policy: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidParameter(policy, reason): "restart policy \(policy): \(reason)"
        }
    }
}
