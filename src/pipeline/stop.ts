// How a stage stops a run on purpose: a message for the human (already safe to show) and the run's outcome.

/** A stage decided the run cannot go on; `message` is what the human reads (already safe to show). */
export class StopRun extends Error {
  override readonly name = 'StopRun';
  constructor(
    message: string,
    readonly outcome: 'failed' | 'succeeded' = 'failed',
  ) {
    super(message);
  }
}
