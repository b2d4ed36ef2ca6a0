/**
 * A pull collection's progress. A plugin's stream does not say how long it is, so the estimate
 * uses the size of the previous collection of the same collector and account when there is one
 * (capped at 99 until the task ends), else a curve that rises with every item and never reaches
 * 100. Either way the reported value never goes down.
 */
export class ProgressEstimate {
  private last = 0;

  constructor(private readonly expected: number | undefined) {}

  after(seen: number): number {
    const estimate =
      this.expected && this.expected > 0 ? Math.min(99, Math.floor((100 * seen) / this.expected)) : Math.min(95, Math.floor((100 * seen) / (seen + 5000)));
    this.last = Math.max(this.last, estimate);
    return this.last;
  }
}
