import Tensors

/// A tensor in a computation: its value, and after `Tape.backward` its gradient.
///
/// Parameters are variables with `requiresGrad` set and no tape. Inputs join a tape through
/// `Tape.input(_:)`; every op whose inputs sit on a tape records itself there. Variables on
/// no tape (inference) record nothing.
public final class Variable {
  public var value: Tensor
  public var grad: Tensor?
  /// Whether backward passes compute this variable's gradient. Parameters have it set; turning
  /// it off freezes one (an optimizer skips variables without a gradient).
  public var requiresGrad: Bool
  public internal(set) weak var tape: Tape?
  /// A factor on the learning rate of this parameter's gradient steps (SGD honours it): the
  /// fast recipe trains batch-norm offsets 64 times faster than the rest.
  public var learningRateMultiplier: Float = 1

  public init(_ value: Tensor, requiresGrad: Bool = false) {
    self.value = value
    self.requiresGrad = requiresGrad
  }

  public var shape: [Int] { value.shape }
}
