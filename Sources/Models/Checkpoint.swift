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
  /// The metadata key listing the `stateName`s of the callbacks whose states a file holds.
  public static let stateNamesKey = "callback_states"

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
  /// Saves weights (and the optimizer's state, when compiled, and the callbacks' states)
  /// atomically to `path`.
  public func save(
    to path: String, epoch: Int = 0, metadata: [String: String] = [:], callbacks: [any Callback] = []
  ) throws {
    var tensors: [String: Tensor] = [:]
    for p in namedParameters { tensors[p.name] = p.variable.value }
    for callback in callbacks { tensors.merge(callback.state(of: self)) { $1 } }
    let stateNames = callbacks.compactMap(\.stateName)
    var meta = metadata
    meta["format"] = Checkpoint.formatName
    if meta[Sequential.modelConfigKey] == nil, let json = try configJSON() { meta[Sequential.modelConfigKey] = json }
    meta["epoch"] = String(epoch)
    if !stateNames.isEmpty { meta[Checkpoint.stateNamesKey] = stateNames.joined(separator: ",") }
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
  /// Each callback's state is restored from the file's tensors under its `stateName` (or
  /// reset when the file has none); the states of callbacks not given are left alone.
  @discardableResult
  public func load(from path: String, restoreOptimizer: Bool = false, callbacks: [any Callback] = []) throws
    -> Checkpoint
  {
    let (tensors, metadata) = try SafeTensors.read(path)
    let epoch = try Checkpoint.integer("epoch", in: metadata, range: 0...Checkpoint.maxEpoch, path: path) ?? 0
    let iterations = try Checkpoint.integer(
      "optimizer.iterations", in: metadata, range: 0...Checkpoint.maxIterations, path: path)
    let params = namedParameters
    let known = Set(params.map(\.name))
    let states = Set(
      ["optimizer", WeightAveraging.prefix] + callbacks.compactMap(\.stateName)
        + (metadata[Checkpoint.stateNamesKey]?.split(separator: ",").map(String.init) ?? []))
    for name in tensors.keys where !known.contains(name) && !states.contains(String(firstPart(name))) {
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
    for callback in callbacks {
      guard let owner = callback.stateName else { continue }
      do {
        try callback.restore(tensors.filter { firstPart($0.key) == owner }, of: self)
      } catch {
        throw ModelError("checkpoint \(quoted(path)): \(error)")
      }
    }
    for p in params { p.variable.value.data.update(from: tensors[p.name]!.data, count: p.variable.value.count) }
    return Checkpoint(epoch: epoch, metadata: metadata)
  }
}

/// "conv2d" of "conv2d.kernel", "optimizer" of "optimizer.m.dense.bias".
private func firstPart(_ name: String) -> Substring {
  name.prefix { $0 != "." }
}
