import Autograd
import Datasets
import Layers
import Optimizers
import Tensors

/// Model checkpoints as safetensors files: every parameter under its name ("conv2d.kernel"),
/// the optimizer's slots under "optimizer.<slot>.<name>", and metadata strings (format,
/// epoch, optimizer iterations, seed, ...).
public struct Checkpoint {
  public var epoch: Int
  public var metadata: [String: String]

  public static let formatName = "cnn-swift-checkpoint-1"

  /// Largest epoch and optimizer step count a checkpoint may claim: far beyond any real run,
  /// far below where a step counter would overflow.
  public static let maxEpoch = 1_000_000
  public static let maxIterations = 1 << 40

  /// A whole-number metadata field within `range`; nil when absent, a clear error when it
  /// holds anything else.
  static func integer(_ key: String, in metadata: [String: String], range: ClosedRange<Int>, path: String) throws
    -> Int?
  {
    guard let text = metadata[key] else { return nil }
    guard let v = Int(text), range.contains(v) else {
      throw ModelError(
        "checkpoint \(quoted(path)): metadata \(key) is \(quoted(text)), expected a whole number from \(range.lowerBound) to \(range.upperBound)"
      )
    }
    return v
  }
}

extension Sequential {
  /// Saves weights (and the optimizer's state, when compiled, and the weight average, when
  /// given and started) atomically to `path`.
  public func save(
    to path: String, epoch: Int = 0, metadata: [String: String] = [:], averaging: WeightAveraging? = nil
  ) throws {
    var tensors: [String: Tensor] = [:]
    let params = namedParameters
    for p in params { tensors[p.name] = p.variable.value }
    if let average = averaging?.average {
      for (p, a) in zip(params, average) { tensors["averaged.\(p.name)"] = a }
    }
    var meta = metadata
    meta["format"] = Checkpoint.formatName
    if meta[Sequential.modelConfigKey] == nil, let json = try configJSON() { meta[Sequential.modelConfigKey] = json }
    meta["epoch"] = String(epoch)
    if let optimizer {
      let state = optimizer.state()
      meta["optimizer"] = String(describing: type(of: optimizer))
      meta["optimizer.iterations"] = String(state.iterations)
      let trainable = namedTrainableParameters
      for (slot, values) in state.slots where values.count == trainable.count {
        for (p, t) in zip(trainable, values) { tensors["optimizer.\(slot).\(p.name)"] = t }
      }
    }
    try SafeTensors.write(tensors, metadata: meta, to: path)
  }

  /// Loads weights from `path`, checking that names and shapes match the model exactly, and
  /// the optimizer's state when `restoreOptimizer` is set and the file holds it. Nothing
  /// changes unless everything matches.
  /// With `averaging`, its average is restored from the file's `averaged.` tensors (or reset
  /// when the file has none).
  @discardableResult
  public func load(from path: String, restoreOptimizer: Bool = false, averaging: WeightAveraging? = nil) throws
    -> Checkpoint
  {
    let (tensors, metadata) = try SafeTensors.read(path)
    let epoch = try Checkpoint.integer("epoch", in: metadata, range: 0...Checkpoint.maxEpoch, path: path) ?? 0
    let iterations = try Checkpoint.integer(
      "optimizer.iterations", in: metadata, range: 0...Checkpoint.maxIterations, path: path)
    let params = namedParameters
    let known = Set(params.map(\.name))
    for name in tensors.keys
    where !name.hasPrefix("optimizer.") && !name.hasPrefix("averaged.") && !known.contains(name) {
      throw ModelError("checkpoint \(quoted(path)) holds \(name), which this model does not have")
    }
    for p in params {
      guard let t = tensors[p.name] else {
        throw ModelError("checkpoint \(quoted(path)) has no tensor for \(p.name)")
      }
      guard t.shape == p.variable.shape else {
        throw ModelError(
          "checkpoint \(quoted(path)): \(p.name) has shape \(t.shape), the model expects \(p.variable.shape)")
      }
      // Training never saves a NaN or an infinity (it stops first), so one is damage.
      guard t.scalars.allSatisfy(\.isFinite) else {
        throw ModelError("checkpoint \(quoted(path)): \(p.name) holds values that are not finite (NaN or infinite)")
      }
    }
    if restoreOptimizer, let optimizer {
      guard let it = iterations else {
        throw ModelError("checkpoint \(quoted(path)) holds no optimizer state to resume from")
      }
      var slots: [String: [Tensor]] = [:]
      for slot in optimizer.state().slots.keys.sorted() {
        slots[slot] = try namedTrainableParameters.map { p in
          guard let t = tensors["optimizer.\(slot).\(p.name)"] else {
            throw ModelError("checkpoint \(quoted(path)) lacks optimizer state optimizer.\(slot).\(p.name)")
          }
          return t
        }
      }
      try optimizer.restore(OptimizerState(iterations: it, slots: slots), parameters: trainableVariables)
    }
    var average: [Tensor]?
    if averaging != nil && tensors.keys.contains(where: { $0.hasPrefix("averaged.") }) {
      average = try params.map { p in
        guard let t = tensors["averaged.\(p.name)"], t.shape == p.variable.shape else {
          throw ModelError("checkpoint \(quoted(path)) lacks averaged.\(p.name) of shape \(p.variable.shape)")
        }
        return t
      }
    }
    averaging?.average = average
    for p in params { p.variable.value.data.update(from: tensors[p.name]!.data, count: p.variable.value.count) }
    return Checkpoint(epoch: epoch, metadata: metadata)
  }
}
