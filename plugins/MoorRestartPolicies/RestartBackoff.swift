/// dockerd's delay before an automatic restart: 100 ms for the first, then
/// doubled at each restart up to one minute; a run that lasted 10 s or more
/// counts as healthy and starts the sequence again at 100 ms.
public enum RestartBackoff {
    public static let initialDelayNs: Int64 = 100_000_000
    public static let maximumDelayNs: Int64 = 60_000_000_000
    public static let healthyRunNs: Int64 = 10_000_000_000

    /// The delay before the next restart, from the one before the previous
    /// restart (0 when there was none) and how long the last run lasted.
    public static func nextDelay(previousDelayNs: Int64, runDurationNs: Int64) -> Int64 {
        if runDurationNs >= healthyRunNs || previousDelayNs <= 0 { return initialDelayNs }
        return previousDelayNs >= maximumDelayNs / 2 ? maximumDelayNs : previousDelayNs * 2
    }
}
