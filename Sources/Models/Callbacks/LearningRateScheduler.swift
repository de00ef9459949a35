import Optimizers

/// Sets the optimizer's rate before every step to the rate `fit` began with times the
/// schedule's factor at that step, counted over the whole run (a resumed run continues the
/// schedule), and records the epoch's last rate in its result (Keras's
/// `LearningRateScheduler`, per step).
public final class LearningRateScheduler: Callback {
  public let schedule: LearningRateSchedule

  public init(_ schedule: LearningRateSchedule) {
    self.schedule = schedule
  }

  public func trainingBegan(_ context: TrainingContext) throws {
    try schedule.validate()
  }

  public func batchBegan(_ context: TrainingContext) throws {
    let factor = schedule.factor(step: context.step - 1, totalSteps: context.totalSteps)
    context.optimizer.learningRate = context.baseLearningRate * factor
  }

  public func epochEnded(_ context: TrainingContext, _ result: inout EpochResult) throws {
    result.learningRate = Double(context.optimizer.learningRate)
  }
}
