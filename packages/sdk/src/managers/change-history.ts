import { ChangeHistoryService, type ChangeHistory } from "@cloudforet/proto/cloudforet/cloud_service/v1/change_history_pb";
import { Handle } from "../handle";
import { Pager, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

/** Change history of resources (cloud-service's ChangeHistoryService): what each write changed, by whom. */
export class ChangeHistories {
  constructor(private readonly rpc: ServiceCaller<typeof ChangeHistoryService>) {}

  /** Changes, newest first unless sorted; `cloudServiceId` narrows them to one resource. */
  list(query?: ListQuery & { cloudServiceId?: string }, options?: RequestOptions): Pager<Handle<ChangeHistory>> {
    const cloudServiceId = query?.cloudServiceId ?? "";
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q, cloudServiceId }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  async get(changeId: string, options?: RequestOptions): Promise<Handle<ChangeHistory>> {
    return this.handle(await this.fetch(changeId, options));
  }

  /** @internal */
  async fetch(changeId: string, options?: RequestOptions): Promise<ChangeHistory> {
    const r = await this.rpc.call((c, o) => c.get({ changeId }, o), options);
    if (!r.change) throw new Error(`change ${changeId} came back empty`);
    return r.change;
  }
  private handle(x: ChangeHistory): Handle<ChangeHistory> {
    return new Handle(x.changeId, x, this);
  }
}
