import Foundation

/// Runs a program to completion for a test: `executable` is a path or a name looked up on
/// `PATH`, fed `input` on standard input (then end of file). Returns its exit status, standard
/// output and standard error (both meant to be small).
func runSubprocess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                   input: String? = nil) throws -> (status: Int32, output: Data, error: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    if let environment { process.environment = environment }
    let (output, error) = (Pipe(), Pipe())
    process.standardOutput = output
    process.standardError = error
    let standardInput = Pipe()
    if input != nil { process.standardInput = standardInput }
    try process.run()
    if let input {
        standardInput.fileHandleForWriting.write(Data(input.utf8))
        try standardInput.fileHandleForWriting.close()
    }
    let out = output.fileHandleForReading.readDataToEndOfFile(), err = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, out, err)
}
