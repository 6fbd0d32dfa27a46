import ArgumentParser
import Attend
import Foundation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fit a tiny attention layer by gradient descent and show what it learned.",
        discussion: """
            A single query learns to attend to the one key (out of eight) whose value matches
            a target, using Attend's tensors, softmax, matmul and reverse-mode gradients.
            """
    )

    @Option(help: "Gradient-descent steps.")
    var steps = 200

    @Option(help: "Random seed.")
    var seed: UInt64 = 7

    func validate() throws {
        guard steps > 0 && steps <= 100_000 else {
            throw ValidationError("--steps must be between 1 and 100000, got \(steps)")
        }
    }

    func run() throws {
        var generator = PhiloxGenerator(seed: seed)
        let dimension = 16, keyCount = 8, target = 5
        let keys = Tensor.normal([keyCount, dimension], using: &generator)
        let values = Tensor.eye(keyCount)                      // value j is the one-hot vector e_j
        var query = Tensor.normal([1, dimension], standardDeviation: 0.1, using: &generator)
        let scale = 1 / Float(dimension).squareRoot()

        func attend(_ query: Tensor) -> Tensor {
            softmax(matmul(query, keys.transposed()) * scale)  // [1, keys]
        }
        print("step   loss      weight on key \(target)")
        for step in 0...steps {
            let (loss, gradients) = valueWithGradient(at: [query]) { inputs in
                let output = matmul(attend(inputs[0]), values)  // [1, keys]
                return -log(output.sliced(axis: 1, target..<(target + 1)) + 1e-9).sum()
            }
            if step % max(1, steps / 5) == 0 || step == steps {
                let weight = attend(query).scalars[target]
                print(String(format: "%4d   %.5f   %.3f", step, loss.scalar, weight))
            }
            query = query - gradients[0] * 0.5
        }
        let weights = attend(query).scalars
        print("\nfinal attention weights over the \(keyCount) keys:")
        for (index, weight) in weights.enumerated() {
            let bar = String(repeating: "█", count: Int((weight * 40).rounded()))
            print(String(format: "  key %d  %.3f  ", index, weight) + bar)
        }
    }
}
