import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  BudgetSchema,
  BudgetService,
  type Budget,
  type BudgetServiceCreateRequestSchema,
  type BudgetServiceStatResponse_Row,
  type BudgetServiceUpdateRequestSchema,
} from "@cloudforet/proto/cloudforet/cost/v1/budget_pb";
import { Handle } from "../handle";
import { asEntity, Pager, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

export { BudgetService };

export class BudgetHandle extends Handle<Budget> {}

/** Cost budgets: planned limits per month or year with thresholds notified once per period. */
export class Budgets {
  constructor(private readonly rpc: ServiceCaller<typeof BudgetService>) {}

  async create(input: MessageInitShape<typeof BudgetServiceCreateRequestSchema>, options?: RequestOptions): Promise<BudgetHandle> {
    return this.handle(asEntity(BudgetSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  /** Changes the given fields (`replace_*` flags say which lists are replaced). */
  async update(input: MessageInitShape<typeof BudgetServiceUpdateRequestSchema>, options?: RequestOptions): Promise<BudgetHandle> {
    return this.handle(asEntity(BudgetSchema, await this.rpc.call((c, o) => c.update(input, o), options)));
  }
  async get(budgetId: string, options?: RequestOptions): Promise<BudgetHandle> {
    return this.handle(await this.fetch(budgetId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<BudgetHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  async delete(budgetId: string, options?: RequestOptions): Promise<void> {
    await this.remove(budgetId, options);
  }
  /** Usage against limit and the forecast of one budget (or all, without an id) for a period ("" = current). */
  async stat(budgetId = "", period = "", options?: RequestOptions): Promise<BudgetServiceStatResponse_Row[]> {
    return (await this.rpc.call((c, o) => c.stat({ budgetId, period }, o), options)).results;
  }

  /** @internal */
  async fetch(budgetId: string, options?: RequestOptions): Promise<Budget> {
    return asEntity(BudgetSchema, await this.rpc.call((c, o) => c.get({ budgetId }, o), options));
  }
  /** @internal */
  async remove(budgetId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ budgetId }, o), options);
  }
  private handle(x: Budget): BudgetHandle {
    return new BudgetHandle(x.budgetId, x, this);
  }
}
