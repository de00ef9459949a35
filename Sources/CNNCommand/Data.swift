import CNN
import Foundation

/// The training and test images `--data` names: CIFAR-10's splits from a binary directory, or
/// an image folder's classes with a held-out part (or `--test-data`) for testing.
/// `defaultSize` is the image size when `--image-size` is not given.
func loadData(_ args: Arguments, limit: Int?, testLimit: Int?, defaultSize: (Int, Int)? = nil) throws -> (
  train: ImageDataset, test: ImageDataset
) {
  let directory = dataDirectory(args)
  let isCIFAR = ["data_batch_1.bin", "test_batch.bin"].contains {
    pathKind((directory as NSString).appendingPathComponent($0)) == .file
  }
  if isCIFAR || pathKind(directory) != .directory {
    for name in ["test-data", "hold-out", "image-size"] where args.string(name) != nil {
      throw CommandError(.usage, "--\(name) goes with an image folder, and \(quoted(directory)) is not one")
    }
    return (
      try CIFAR10.load(directory: directory, split: .train, limit: limit),
      try CIFAR10.load(directory: directory, split: .test, limit: testLimit)
    )
  }
  let size = try args.string("image-size").map(parseImageSize) ?? defaultSize
  if args.string("test-data") != nil && args.string("hold-out") != nil {
    throw CommandError(.usage, "give --test-data or --hold-out, not both")
  }
  let all = try ImageFolder.load(directory: directory, size: size)
  var (train, test) = (all, all)
  if let testDirectory = args.string("test-data") {
    test = try ImageFolder.load(directory: testDirectory, size: (all.height, all.width))
    guard test.classNames == all.classNames else {
      throw CommandError(
        .failure,
        "the test folder's classes (\(test.classNames.joined(separator: ", "))) differ from the training folder's (\(all.classNames.joined(separator: ", ")))"
      )
    }
  } else {
    let fraction = try args.double("hold-out", default: 0.2, above: 0, atMost: 0.99)
    (train, test) = try all.split(holdingOut: fraction, seed: 0)
  }
  // Folder data is in class order: a limit takes a seeded sample of every class, not the first classes.
  func sample(_ data: ImageDataset, _ n: Int?) throws -> ImageDataset {
    guard let n, n < data.count else { return data }
    var rng = SeededRandom(seed: 0)
    return try data.subset(Array(rng.permutation(data.count).prefix(n)))
  }
  return (try sample(train, limit), try sample(test, testLimit))
}

/// "32" or "32x48" as (height, width).
private func parseImageSize(_ text: String) throws -> (height: Int, width: Int) {
  let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
  guard parts.count <= 2, let h = parts.first ?? nil, let w = parts.last ?? nil, (1...1024).contains(h),
    (1...1024).contains(w)
  else { throw CommandError(.usage, "--image-size \(quoted(text)) is not N or HxW with sides 1 to 1024") }
  return (h, w)
}

/// The input shape a checkpoint's run record holds, checked; nil when it records none.
func recordedInputShape(_ metadata: [String: String], checkpoint: String) throws -> [Int]? {
  try RunRecord(metadata: metadata, checkpoint: checkpoint)?.checkedInputShape(checkpoint)
}

/// The class names a checkpoint's run record holds, checked; nil when it records none.
func recordedClassNames(_ metadata: [String: String], checkpoint: String) throws -> [String]? {
  try RunRecord(metadata: metadata, checkpoint: checkpoint)?.checkedClassNames(checkpoint)
}
