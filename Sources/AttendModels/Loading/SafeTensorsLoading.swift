import Attend
import AttendNN

extension Module {
    /// Loads every parameter of this module from `file` — parameter `name` is tensor
    /// `prefix + name` — checking that each exists and has the module's shape, then
    /// `loadStateDict(strict: true)`. `expectation` says what implied the shapes (e.g.
    /// "config.json describes 6 layers"), for the error message.
    ///
    /// - Throws: ``ModelLoadingError`` naming the tensor that is missing or mis-shaped.
    func loadParameters(from file: SafeTensorsFile, prefix: String = "", expectation: String) throws {
        var state: [String: Tensor] = [:]
        for (name, parameter) in namedParameters() {
            guard file.entries[prefix + name] != nil else {
                throw ModelLoadingError(file: file.path, reason: "missing tensor '\(prefix + name)' (\(expectation))")
            }
            let tensor = try file.tensor(named: prefix + name)
            guard tensor.shape == parameter.tensor?.shape else {
                throw ModelLoadingError(file: file.path, reason: "tensor '\(prefix + name)' has shape \(tensor.shape), expected \(parameter.tensor?.shape ?? []) (\(expectation))")
            }
            state[name] = tensor
        }
        try loadStateDict(state, strict: true)
    }
}
