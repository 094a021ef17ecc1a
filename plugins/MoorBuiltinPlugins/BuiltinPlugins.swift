import MoorLogJSONFile
import MoorLogLocal
import MoorLogNone
import MoorNetworkBasic
import MoorPluginKit
import MoorRestartPolicies

/// The plugins that ship with moor, in one explicit list. The daemon adds
/// them with `PluginRegistry.register(_:)`, the same call a third-party
/// plugin package's registrations go through; nothing registers itself.
public enum BuiltinPlugins {
    public static var registrations: [PluginRegistration] {
        [
            JSONFileLogDriver.registration,
            LocalLogDriver.registration,
            NoneLogDriver.registration,
        ]
            + BasicNetworkDrivers.registrations
            + RestartPolicies.registrations
    }
}
