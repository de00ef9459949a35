import Foundation
import Synchronization

/// The layer types checkpoints can name, by type name. The built-in layers are registered; a
/// layer of your own takes part in saved model configs by being a `SavableLayer` (usually a
/// `ConfigurableLayer`) and registering its type once, before loading:
///
///     LayerRegistry.register(Scale.self)
public enum LayerRegistry {
  /// The built-in layers: a new layer adds its line here.
  private static var builtIn: [any SavableLayer.Type] {
    [
      Conv2D.self, Dense.self, Flatten.self, ReLU.self, Softmax.self, GELU.self, Dropout.self, Rescaling.self,
      BatchNormalization.self, Normalization.self, LayerNormalization.self,
      MaxPooling2D.self, AveragePooling2D.self, MinPooling2D.self, AvgTopKPooling2D.self, LpPooling2D.self,
      MixedPooling2D.self, GlobalMaxPooling2D.self, GlobalAveragePooling2D.self, GlobalMinPooling2D.self,
      GlobalAvgTopKPooling2D.self, GlobalLpPooling2D.self, GlobalMixedPooling2D.self,
    ]
  }

  private static let types = Mutex<[String: any SavableLayer.Type]>(
    Dictionary(uniqueKeysWithValues: builtIn.map { ($0.typeName, $0) }))

  /// Registers (or replaces) the type built for configs named `type.typeName`.
  public static func register(_ type: any SavableLayer.Type) {
    types.withLock { $0[type.typeName] = type }
  }

  /// Whether configs named `typeName` can be built.
  public static func isRegistered(_ typeName: String) -> Bool {
    types.withLock { $0[typeName] != nil }
  }

  /// A new, unbuilt layer from its config.
  public static func make(_ config: LayerConfig) throws -> any Layer {
    guard let type = types.withLock({ $0[config.type] }) else {
      throw LayerError("no layer type '\(config.type)' is registered (register custom layers with LayerRegistry)")
    }
    return try type.make(from: config)
  }
}
