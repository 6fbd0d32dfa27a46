import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Training progress on standard error: on a terminal, one line redrawn in place —
/// `[██████░░░░] 600/1000 loss 0.4213 · 182.4 steps/s · ETA 0:02`; otherwise a plain line
/// every `plainInterval` steps, so logs stay readable.
public final class ProgressBar {
    public let total: Int
    public let label: String
    private let started = Date()
    private let isTerminal: Bool
    private let plainInterval: Int
    private var lastDrawn = Date.distantPast

    public init(total: Int, label: String = "", plainInterval: Int? = nil) {
        self.total = Swift.max(total, 1)
        self.label = label
        isTerminal = isatty(STDERR_FILENO) == 1
        self.plainInterval = plainInterval ?? Swift.max(1, total / 20)
    }

    /// Reports that `step` steps are done, with the latest metrics.
    public func update(step: Int, metrics: [(String, Float)] = []) {
        let elapsed = Date().timeIntervalSince(started)
        let rate = Double(step) / Swift.max(elapsed, 1e-9)
        let remaining = rate > 0 ? Double(total - step) / rate : 0
        let text = metrics.map { "\($0.0) \(String(format: "%.4f", $0.1))" }.joined(separator: " · ")
        let timing = String(format: "%.1f steps/s · ETA %@", rate, ProgressBar.clock(remaining))
        if isTerminal {
            guard step == total || Date().timeIntervalSince(lastDrawn) > 0.1 else { return }
            lastDrawn = Date()
            let width = 24, filled = width * step / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line = "\r\(label) [\(bar)] \(step)/\(total) \(text) · \(timing)\u{1B}[K"
            FileHandle.standardError.write(Data(line.utf8))
            if step == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if step % plainInterval == 0 || step == total {
            FileHandle.standardError.write(Data("\(label) step \(step)/\(total) \(text) · \(timing)\n".utf8))
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
