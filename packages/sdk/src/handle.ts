import type { RequestOptions } from "./rpc";

/** What a handle needs from its manager. */
export interface HandleOps<T> {
  fetch(id: string, options?: RequestOptions): Promise<T>;
  remove?(id: string, options?: RequestOptions): Promise<void>;
}

/**
 * One resource as the server last returned it (`data`, the generated message), with methods
 * that act on it. `refresh()` re-reads it; resource-specific handles add their own actions.
 */
export class Handle<T> {
  constructor(
    /** The resource's id. */
    readonly id: string,
    /** The resource as last read. */
    public data: T,
    protected readonly ops: HandleOps<T>,
  ) {}

  /** Re-reads the resource; returns this handle with fresh `data`. */
  async refresh(options?: RequestOptions): Promise<this> {
    this.data = await this.ops.fetch(this.id, options);
    return this;
  }

  /** Deletes the resource. */
  async delete(options?: RequestOptions): Promise<void> {
    if (!this.ops.remove) throw new TypeError("This resource cannot be deleted");
    await this.ops.remove(this.id, options);
  }

  toJSON(): T {
    return this.data;
  }
}
