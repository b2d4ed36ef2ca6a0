import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  CollectorRuleService,
  type CollectorRule,
  type CollectorRuleServiceCreateRequestSchema,
  type CollectorRuleServiceDryRunResponse,
  type CollectorRuleServiceUpdateRequestSchema,
} from "@cloudforet/proto/cloudforet/inventory/v1/collector_rule_pb";
import { Handle } from "../handle";
import { Pager, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

type RuleChanges = Omit<MessageInitShape<typeof CollectorRuleServiceUpdateRequestSchema>, "collectorRuleId" | "$typeName">;

export class CollectorRuleHandle extends Handle<CollectorRule> {
  private get rules(): CollectorRules {
    return this.ops as CollectorRules;
  }
  async update(changes: RuleChanges, options?: RequestOptions): Promise<this> {
    this.data = await this.rules.patch(this.id, changes, options);
    return this;
  }
  /** Moves the rule to `order` (1-based) among its collector's rules. */
  async changeOrder(order: number, options?: RequestOptions): Promise<this> {
    this.data = (await this.rules.changeOrder(this.id, order, options)).data;
    return this;
  }
  /** Which existing resources the rule would change, and how; changes nothing. */
  dryRun(page: { start?: number; limit?: number } = {}, options?: RequestOptions): Promise<CollectorRuleServiceDryRunResponse> {
    return this.rules.dryRun(this.id, page, options);
  }
}

/** Collector rules (inventory's CollectorRuleService): ordered conditions and actions applied during collection. */
export class CollectorRules {
  constructor(private readonly rpc: ServiceCaller<typeof CollectorRuleService>) {}

  async create(input: MessageInitShape<typeof CollectorRuleServiceCreateRequestSchema>, options?: RequestOptions): Promise<CollectorRuleHandle> {
    return this.handle(await this.unwrap(this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(collectorRuleId: string, options?: RequestOptions): Promise<CollectorRuleHandle> {
    return this.handle(await this.fetch(collectorRuleId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<CollectorRuleHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  async update(collectorRuleId: string, changes: RuleChanges, options?: RequestOptions): Promise<CollectorRuleHandle> {
    return this.handle(await this.patch(collectorRuleId, changes, options));
  }
  async changeOrder(collectorRuleId: string, order: number, options?: RequestOptions): Promise<CollectorRuleHandle> {
    return this.handle(await this.unwrap(this.rpc.call((c, o) => c.changeOrder({ collectorRuleId, order }, o), options)));
  }
  dryRun(collectorRuleId: string, page: { start?: number; limit?: number } = {}, options?: RequestOptions): Promise<CollectorRuleServiceDryRunResponse> {
    return this.rpc.call((c, o) => c.dryRun({ collectorRuleId, page: { start: page.start ?? 0, limit: page.limit ?? 0 } }, o), options);
  }
  async delete(collectorRuleId: string, options?: RequestOptions): Promise<void> {
    await this.remove(collectorRuleId, options);
  }

  /** @internal */
  async fetch(collectorRuleId: string, options?: RequestOptions): Promise<CollectorRule> {
    return this.unwrap(this.rpc.call((c, o) => c.get({ collectorRuleId }, o), options));
  }
  /** @internal */
  async patch(collectorRuleId: string, changes: RuleChanges, options?: RequestOptions): Promise<CollectorRule> {
    return this.unwrap(this.rpc.call((c, o) => c.update({ ...changes, collectorRuleId }, o), options));
  }
  /** @internal */
  async remove(collectorRuleId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ collectorRuleId }, o), options);
  }
  private async unwrap(answer: Promise<{ rule?: CollectorRule }>): Promise<CollectorRule> {
    const { rule } = await answer;
    if (!rule) throw new Error("the collector rule came back empty");
    return rule;
  }
  private handle(x: CollectorRule): CollectorRuleHandle {
    return new CollectorRuleHandle(x.collectorRuleId, x, this);
  }
}
