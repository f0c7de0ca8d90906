import Foundation

/// `SOURCE_DATE_EPOCH` (reproducible-builds.org): the time a reproducible output records when none is
/// given, in whole seconds since 1970; nil when the variable is not set or empty.
public enum SourceDateEpoch {
    public static func seconds(in environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int64? {
        guard let text = environment["SOURCE_DATE_EPOCH"], !text.isEmpty else { return nil }
        guard let seconds = Int64(text), seconds >= 0, seconds < 253_402_300_800 else {
            throw PipelineError(.config, "SOURCE_DATE_EPOCH must be whole seconds since 1970, found '\(text)'")
        }
        return seconds
    }
}
