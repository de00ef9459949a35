import Autograd
import Tensors

/// An optimizer updates parameters from their gradients, then clears the gradients.
///
/// Its state (moments, step count) is indexed like the parameter list it is given, and can
/// be exported and restored so that a resumed run continues exactly.
public protocol Optimizer: AnyObject {
  var learningRate: Float { get set }
  /// Applies one update to every parameter that has a gradient, then sets `grad` to nil.
  func step(_ parameters: [Variable]) throws
  /// Named state tensors, keyed by slot ("m", "v") and parameter index.
  func state() -> OptimizerState
  /// Restores `state()` output for the same parameter list.
  func restore(_ state: OptimizerState, parameters: [Variable]) throws
}

/// What an optimizer needs to continue exactly where it stopped.
public struct OptimizerState {
  public var iterations: Int
  /// slot name -> one tensor per parameter, in parameter order.
  public var slots: [String: [Tensor]]

  public init(iterations: Int, slots: [String: [Tensor]]) {
    self.iterations = iterations
    self.slots = slots
  }
}

public struct OptimizerError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
