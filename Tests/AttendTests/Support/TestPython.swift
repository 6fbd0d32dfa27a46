import Foundation

/// A Python interpreter for cross-checks against outside libraries (TensorBoard's event reader,
/// Pillow's PNG decoder): `ATTEND_TEST_PYTHON` when set, else `python3`, if it can import the
/// module. CI installs both into `.ci/venv` and sets the `ATTEND_REQUIRE_…` flags.
enum TestPython {
    static func interpreter(importing module: String) -> String? {
        let candidates = [ProcessInfo.processInfo.environment["ATTEND_TEST_PYTHON"], "python3"].compactMap { $0 }
        return candidates.first { (try? run($0, ["-c", "import \(module)"]).status) == 0 }
    }

    /// Runs `python arguments…` and returns its exit status and standard output.
    static func run(_ python: String, _ arguments: [String]) throws -> (status: Int32, output: Data) {
        let result = try runSubprocess(python, arguments)
        return (result.status, result.output)
    }

    static func isRequired(_ flag: String) -> Bool { ProcessInfo.processInfo.environment[flag] == "1" }
}
