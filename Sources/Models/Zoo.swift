/// Ready-made models, by name, for the command line.
public enum Zoo {
  public static let names = ["seed", "tiny"]

  /// `seed`: the tutorials' CIFAR-10 CNN (167,562 parameters): Conv2D 32 → MaxPooling2D →
  /// Conv2D 64 → MaxPooling2D → Flatten → Dense 64 → Dense 10 with softmax, trained with
  /// sparse cross-entropy on the probabilities, as the Keras original.
  /// `tiny`: a small CNN for quick tests.
  public static func model(_ name: String, inputShape: [Int] = [32, 32, 3], classes: Int = 10, seed: UInt64 = 0)
    throws -> Sequential
  {
    switch name {
    case "seed":
      return try Sequential(inputShape: inputShape, seed: seed) {
        Conv2D(filters: 32, kernelSize: (3, 3), activation: .relu)
        MaxPooling2D(poolSize: (2, 2))
        Conv2D(filters: 64, kernelSize: (3, 3), activation: .relu)
        MaxPooling2D(poolSize: (2, 2))
        Flatten()
        Dense(units: 64, activation: .relu)
        Dense(units: classes, activation: .softmax)
      }
    case "tiny":
      return try Sequential(inputShape: inputShape, seed: seed) {
        Conv2D(filters: 8, kernelSize: (3, 3), strides: (2, 2), activation: .relu)
        MaxPooling2D(poolSize: (2, 2))
        Flatten()
        Dense(units: classes, activation: .softmax)
      }
    default:
      throw ModelError("unknown model '\(name)'; choose one of: \(names.joined(separator: ", "))")
    }
  }
}
