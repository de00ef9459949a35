import CNN
import Foundation
import XCTest

/// A group of two seen from process 0, whose partner sends `peer(send)` back.
private final class PairGroup: ProcessGroup {
  let rank = 0
  let size = 2
  let peer: @Sendable ([UInt8]) -> [UInt8]
  init(peer: @escaping @Sendable ([UInt8]) -> [UInt8]) { self.peer = peer }

  func allGather(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
    let mine = Array(send)
    for (i, byte) in (mine + peer(mine)).enumerated() { receive[i] = byte }
  }

  func allToAll(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
    XCTFail("no gradients should be exchanged in these tests")
  }
}

final class DistributedTests: XCTestCase {
  func testLaunchersAreFoundByTheirEnvironment() {
    XCTAssertNil(Distributed.launcher([:]))
    XCTAssertNil(Distributed.launcher(["OMPI_COMM_WORLD_SIZE": "4"]))
    let open = Distributed.launcher(["OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "3"])
    XCTAssertEqual(open?.kind, "Open MPI")
    XCTAssertEqual(open?.size, 4)
    XCTAssertEqual(open?.rank, 3)
    XCTAssertEqual(Distributed.launcher(["PMI_SIZE": "2", "PMI_RANK": "1"])?.kind, "MPICH")
    XCTAssertEqual(Distributed.launcher(["PMIX_SIZE": "2", "PMIX_RANK": "0"])?.kind, "PMIx")
    XCTAssertEqual(Distributed.localProcesses(["MPI_LOCALNRANKS": "2"]), 2)
    XCTAssertEqual(Distributed.localProcesses([:]), 1)
  }

  /// Without a launcher nothing is opened and training runs on its own.
  func testWithoutALauncherThereIsNoGroup() throws {
    try XCTSkipIf(Distributed.launcher() != nil, "running under an MPI launcher")
    XCTAssertNil(try Distributed.mpi())
  }

  func testProcessesThatDisagreeAreNamed() throws {
    let items = [(name: "training data", value: "abc"), (name: "seed", value: "0")]
    try checkAgreement(items, over: PairGroup { $0 })
    let otherSeed = PairGroup { mine in mine.enumerated().map { $0 >= 8 ? $1 ^ 1 : $1 } }
    XCTAssertThrowsError(try checkAgreement(items, over: otherSeed)) { error in
      XCTAssertTrue("\(error)".contains("process 1 of 2 does not match process 0: its seed differs"), "\(error)")
    }
  }

  /// What several processes cannot train is refused before any exchange.
  func testFitRefusesWhatCannotBeSplit() throws {
    let data = try TensorDataset(inputs: Tensor(zeros: [128, 4, 4, 1]), labels: Array(repeating: 0, count: 128))
    func model(_ layers: [any Layer], loss: Loss = .sparseCategoricalCrossentropy(fromLogits: true)) throws
      -> Sequential
    {
      let m = try Sequential(inputShape: [4, 4, 1], layers: layers)
      m.compile(optimizer: Adam(), loss: loss)
      return m
    }
    let plain = try model([Flatten(), Dense(units: 2)])
    let three = PairGroupOfSize(3)
    XCTAssertThrowsError(try plain.fit(data, epochs: 1, batchSize: 64, group: three)) { error in
      XCTAssertTrue("\(error)".contains("training on 3 processes"), "\(error)")
    }
    // Batches of 32 make one shard: one process only.
    XCTAssertThrowsError(try plain.fit(data, epochs: 1, batchSize: 32, group: PairGroup { $0 })) { error in
      XCTAssertTrue("\(error)".contains("batches of 32 are cut into 1 shard of at least 32"), "\(error)")
    }
    // 129 examples in batches of 64 end with a batch of 1, which one of two processes would lack.
    let odd = try TensorDataset(inputs: Tensor(zeros: [129, 4, 4, 1]), labels: Array(repeating: 0, count: 129))
    XCTAssertThrowsError(try plain.fit(odd, epochs: 1, batchSize: 64, group: PairGroup { $0 })) { error in
      XCTAssertTrue("\(error)".contains("last batch of 1 example would leave process 0 of 2 without any"), "\(error)")
    }
    let mixed = try model([MixedPooling2D(.learned()), Flatten(), Dense(units: 2)])
    XCTAssertThrowsError(try mixed.fit(data, epochs: 1, batchSize: 64, group: PairGroup { $0 })) { error in
      XCTAssertTrue("\(error)".contains("layer 1 (MixedPooling2D) has trainable weights"), "\(error)")
    }
    let custom = try model(
      [Flatten(), Dense(units: 2)], loss: Loss(name: "custom") { output, _ in sum(output) })
    XCTAssertThrowsError(try custom.fit(data, epochs: 1, batchSize: 64, group: PairGroup { $0 })) { error in
      XCTAssertTrue("\(error)".contains("the loss 'custom'"), "\(error)")
    }
  }
}

/// A group of `size` processes that is never asked to exchange anything.
private final class PairGroupOfSize: ProcessGroup {
  let rank = 0
  let size: Int
  init(_ size: Int) { self.size = size }
  func allGather(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
    XCTFail("unexpected exchange")
  }
  func allToAll(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
    XCTFail("unexpected exchange")
  }
}
