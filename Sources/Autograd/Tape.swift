import Tensors

/// Reverse-mode automatic differentiation over a tape.
///
/// Ops append a record (inputs, output, backward rule) in the order they run, which is a
/// topological order of the graph; `backward` walks it in reverse, with no recursion, and
/// accumulates each input's gradient after checking its shape against the input's.
public final class Tape {
  struct Record {
    let name: String
    let inputs: [Variable]
    let output: Variable
    let backward: (Tensor) throws -> [Tensor?]
  }

  private(set) var records: [Record] = []

  /// True while training: layers such as Dropout would read it. Inference uses no tape.
  public let training: Bool

  /// The shards of the batch being trained on, for ops that sum over its examples (see
  /// `BatchShards`); nil: the whole batch is here, cut into shards by its size.
  public let shards: BatchShards?

  public init(training: Bool = true, shards: BatchShards? = nil) {
    self.training = training
    self.shards = shards
  }

  /// Number of ops recorded so far.
  public var count: Int { records.count }

  /// Puts a tensor on this tape. With `requiresGrad`, its gradient is computed too.
  public func input(_ value: Tensor, requiresGrad: Bool = false) -> Variable {
    let v = Variable(value, requiresGrad: requiresGrad)
    v.tape = self
    return v
  }

  func record(
    _ name: String, inputs: [Variable], output: Variable,
    backward: @escaping (Tensor) throws -> [Tensor?]
  ) {
    records.append(Record(name: name, inputs: inputs, output: output, backward: backward))
  }

  /// Back-propagates from a scalar `loss`, leaving gradients in every variable that
  /// requires one. Intermediate gradients are released as soon as they are used, and the
  /// tape is emptied.
  public func backward(_ loss: Variable) throws {
    guard loss.value.count == 1 else {
      throw TensorError("backward needs a scalar loss, got shape \(loss.shape)")
    }
    loss.grad = Tensor(shape: loss.shape, repeating: 1)
    for record in records.reversed() {
      guard let g = record.output.grad else { continue }
      let grads = try record.backward(g)
      record.output.grad = nil
      for (input, gi) in zip(record.inputs, grads) {
        guard input.requiresGrad, let gi else { continue }
        guard gi.shape == input.shape else {
          throw TensorError(
            "\(record.name): gradient of shape \(gi.shape) for an input of shape \(input.shape)")
        }
        if let existing = input.grad {
          try existing.add(gi)
        } else {
          input.grad = gi
        }
      }
    }
    records.removeAll()
  }
}

/// Whether an op on these inputs will record a backward pass (some input on a tape, and some
/// needing a gradient): ops keep what only the backward pass needs just then.
public func willRecord(_ inputs: [Variable]) -> Bool {
  inputs.contains { $0.tape != nil } && inputs.contains { $0.requiresGrad }
}

/// Makes an op's output: the entry point for writing an op of your own. `value` is the
/// result of the forward pass; `backward` maps the output's gradient to one gradient per
/// input, in the order of `inputs` (nil where none is needed), and is recorded on the inputs'
/// tape (if any) when some input needs a gradient. In inference (no tape) nothing is kept.
///
///     func cube(_ x: Variable) -> Variable {
///       let y = Tensor(uninitialized: x.shape)
///       for i in 0..<y.count { y.data[i] = x.value.data[i] * x.value.data[i] * x.value.data[i] }
///       return makeOutput("cube", y, inputs: [x]) { dy in
///         let dx = Tensor(uninitialized: x.shape)
///         for i in 0..<dx.count { dx.data[i] = 3 * x.value.data[i] * x.value.data[i] * dy.data[i] }
///         return [dx]
///       }
///     }
public func makeOutput(
  _ name: String, _ value: Tensor, inputs: [Variable],
  backward: @escaping (Tensor) throws -> [Tensor?]
) -> Variable {
  let out = Variable(value)
  var tape: Tape?
  for v in inputs where v.tape != nil {
    tape = v.tape
    break
  }
  guard let tape else { return out }
  out.tape = tape
  if inputs.contains(where: { $0.requiresGrad }) {
    out.requiresGrad = true
    tape.record(name, inputs: inputs, output: out, backward: backward)
  }
  return out
}
