import Foundation

/// Writes `metrics` as pretty-printed JSON with sorted keys to `path`, atomically (what
/// `metrics.json` files hold).
public func writeMetrics(_ metrics: [String: Double], toFile path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(metrics).write(to: URL(fileURLWithPath: path), options: .atomic)
}
