import CNN
import Foundation

/// What `cnn train` records of its run in every checkpoint, beside the model's config (the
/// one description of its model), the epoch, the optimizer's state and the epoch's metrics
/// line: JSON under the metadata key "run".
struct RunRecord: Codable, Equatable {
  /// The recipe it was trained by, a zoo name.
  var recipe: String
  var seed: UInt64
  var batchSize: Int
  var learningRate: Float
  /// The epochs the command was given (a fraction for the fast recipes).
  var epochs: Double?
  var trainImages: Int
  var trainFingerprint: String?
  var classNames: [String]?
  var inputShape: [Int]?

  enum CodingKeys: String, CodingKey {
    case recipe, seed, batchSize = "batch_size", learningRate = "learning_rate", epochs
    case trainImages = "train_images", trainFingerprint = "train_fingerprint", classNames = "class_names"
    case inputShape = "input_shape"
  }

  static let key = "run"

  /// The metadata entry that holds it.
  func metadata() throws -> [String: String] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return [RunRecord.key: String(decoding: try encoder.encode(self), as: UTF8.self)]
  }

  /// The input shape it records, checked: sides 1 to 1024, 1 or 3 channels.
  func checkedInputShape(_ checkpoint: String) throws -> [Int]? {
    guard let shape = inputShape else { return nil }
    guard shape.count == 3, (1...1024).contains(shape[0]), (1...1024).contains(shape[1]), shape[2] == 1 || shape[2] == 3
    else {
      throw CommandError(
        .failure,
        "checkpoint \(quoted(checkpoint)) records the input shape \(shape), not H,W,C with sides 1 to 1024 and 1 or 3 channels"
      )
    }
    return shape
  }

  /// The class names it records, checked: 1 to 256, none empty.
  func checkedClassNames(_ checkpoint: String) throws -> [String]? {
    guard let names = classNames else { return nil }
    guard !names.isEmpty, names.count <= 256, !names.contains("") else {
      throw CommandError(.failure, "checkpoint \(quoted(checkpoint)) records class names that are empty or too many")
    }
    return names
  }

  /// Its fields as (name, value) rows, for the report.
  func rows() -> [(String, String)] {
    var out = [
      ("recipe", recipe), ("seed", String(seed)), ("batch size", String(batchSize)),
      ("learning rate", String(learningRate)), ("training images", String(trainImages)),
    ]
    if let epochs { out.append(("epochs", String(format: "%g", epochs))) }
    if let inputShape { out.append(("input shape", inputShape.map(String.init).joined(separator: " x "))) }
    if let classNames { out.append(("classes", classNames.joined(separator: ", "))) }
    return out
  }
}

extension RunRecord {
  /// The record a checkpoint's metadata holds; nil when it holds none (a checkpoint saved by
  /// a program of your own).
  init?(metadata: [String: String], checkpoint: String) throws {
    guard let json = metadata[RunRecord.key] else {
      guard let legacy = try RunRecord(legacy: metadata, checkpoint: checkpoint) else { return nil }
      self = legacy
      return
    }
    do {
      self = try JSONDecoder().decode(RunRecord.self, from: Data(json.utf8))
    } catch {
      throw CommandError(.failure, "checkpoint \(quoted(checkpoint)): its run record is damaged (\(error))")
    }
  }

  /// Checkpoints written before the record (2026-12-02 and earlier) kept it as flat strings.
  private init?(legacy m: [String: String], checkpoint: String) throws {
    guard let recipe = m["model"] else { return nil }
    self.recipe = recipe
    seed = m["seed"].flatMap { UInt64($0) } ?? 0
    batchSize = m["batch_size"].flatMap { Int($0) } ?? 0
    learningRate = m["learning_rate"].flatMap { Float($0) } ?? 0
    epochs = m["epochs"].flatMap { Double($0) }
    trainImages = m["train_images"].flatMap { Int($0) } ?? 0
    trainFingerprint = m["train_fingerprint"]
    classNames = m["class_names"].map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    inputShape = m["input_shape"].map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
    }
  }
}
