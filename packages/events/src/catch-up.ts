import { EventBusError } from "./event-errors";

/** A subscription's `caughtUp`: settled once, when its backlog was handled or it closed first. */
export class CatchUp {
  readonly promise: Promise<void>;
  private settle?: { resolve(): void; reject(err: Error): void };

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Nobody has to wait for it; a close before the catch-up must not be an unhandled rejection.
    this.promise.catch(() => {});
  }

  get settled(): boolean {
    return this.settle === undefined;
  }

  done(): void {
    this.settle?.resolve();
    this.settle = undefined;
  }

  abandon(durable: string): void {
    this.settle?.reject(new EventBusError(`subscription ${durable} closed before it caught up`));
    this.settle = undefined;
  }
}
