import { queryRows } from "@cloudforet/db";
import { sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { conflict, invalidParameter } from "@cloudforet/errors";
import type { OwnerScope } from "../access/tenants";
import { instances as instancesTable, sequences } from "../db/schema";
import { walkBlocks, type Block, type StepBlock } from "../definitions/blocks";
import { HUMAN_REVIEW_SIGNAL } from "../engine/handlers/human-review";
import { blockIdOfKey } from "../engine/interpreter";
import { scopedInstance } from "../execution-tree/scoped-instance";
import type { Instances } from "../instances/instances";
import type { Page } from "../instances/repository";
import { timestampJson } from "../rest/rest-json";

/** One pending `human_review` step, in the engine's ApprovalItem shape (`GET /approvals`). */
export interface ApprovalItem {
  instance_id: string;
  tenant_id: string;
  namespace: string;
  sequence_id: string;
  sequence_name: string;
  block_id: string;
  /** The execution-tree node (`poll#2/review` inside loops). */
  node_id: string;
  prompt: string;
  choices: { label: string; value: string }[];
  store_as: string | null;
  timeout_seconds: number | null;
  escalation_handler: string | null;
  waiting_since: string | null;
  deadline: string | null;
  metadata: Record<string, unknown>;
  allow_comment: boolean;
}

export interface Decision {
  approved: boolean;
  reviewer: string | null;
  comments: string | null;
}

type PendingRow = {
  instance_id: string;
  tenant_id: string;
  namespace: string;
  sequence_id: string;
  sequence_name: string;
  blocks: Block[];
  metadata: Record<string, unknown>;
  node_key: string;
  node: { data?: Record<string, unknown> };
  total: string | number;
};

const CHOICES = [
  { label: "Approve", value: "approve" },
  { label: "Reject", value: "reject" },
];

/** A review node still waiting for its answer: suspended, marked review_pending, no review taken in. */
const PENDING_NODE = sql`n.value->>'status' = 'suspended' and n.value->'data'->>'review_pending' = 'true' and not (n.value->'data' ? 'review')`;

/**
 * The approvals inbox: every `human_review` step of the caller's tenants that waits for a reviewer,
 * and the decision that answers one — the same `custom:human_review` signal the step waits for,
 * naming the step, so an answer given here and one sent as a signal are the same thing.
 */
export class Approvals {
  constructor(
    private readonly db: Database,
    private readonly instances: Instances,
  ) {}

  /** Pending reviews, oldest waiting instance first, paginated over the reviews (not the instances). */
  async list(scope: OwnerScope, namespace: string | undefined, page: Page): Promise<{ items: ApprovalItem[]; total: number }> {
    const rows = await queryRows<PendingRow>(
      this.db,
      sql`select i.id as instance_id, i.tenant_id, i.namespace, i.sequence_id, s.name as sequence_name, s.blocks, i.metadata,
                 n.key as node_key, n.value as node, count(*) over () as total
          from ${instancesTable} i
          cross join lateral jsonb_each(i.execution->'nodes') n
          join ${sequences} s on s.id = i.sequence_id
          where i.state in ('running', 'waiting', 'paused', 'scheduled')
            ${scope.domainId !== undefined ? sql`and i.domain_id = ${scope.domainId}` : sql``}
            ${scope.tenantId !== undefined ? sql`and i.tenant_id = ${scope.tenantId}` : sql``}
            ${namespace !== undefined ? sql`and i.namespace = ${namespace}` : sql``}
            and ${PENDING_NODE}
          order by i.updated_at, i.id, n.key
          offset ${page.offset} limit ${page.limit}`,
    );
    return { items: rows.map(toItem), total: rows.length > 0 ? Number(rows[0].total) : await this.count(scope, namespace, page) };
  }

  /** The total when the page is past the end (the window function then has no row to report it on). */
  private async count(scope: OwnerScope, namespace: string | undefined, page: Page): Promise<number> {
    if (page.offset === 0) return 0;
    const [row] = await queryRows<{ total: string | number }>(
      this.db,
      sql`select count(*) as total from ${instancesTable} i cross join lateral jsonb_each(i.execution->'nodes') n
          where i.state in ('running', 'waiting', 'paused', 'scheduled')
            ${scope.domainId !== undefined ? sql`and i.domain_id = ${scope.domainId}` : sql``}
            ${scope.tenantId !== undefined ? sql`and i.tenant_id = ${scope.tenantId}` : sql``}
            ${namespace !== undefined ? sql`and i.namespace = ${namespace}` : sql``}
            and ${PENDING_NODE}`,
    );
    return Number(row?.total ?? 0);
  }

  /**
   * Answers the pending review of `blockId`: NOT_FOUND for an instance outside the scope, 409
   * ERROR_CONFLICT when that step is not waiting for a review (answered already, or not reached).
   */
  async decide(scope: OwnerScope, instanceId: string, blockId: string, decision: Decision): Promise<{ signal_id: string }> {
    const instance = await scopedInstance(this.db, instanceId, scope);
    const pending = Object.entries(instance.execution.nodes ?? {}).some(
      ([key, node]) => blockIdOfKey(key) === blockId && node.status === "suspended" && node.data?.review_pending === true && node.data.review === undefined,
    );
    if (!pending) throw conflict(`step ${blockId} of instance ${instance.id} is not waiting for a review`, { instance_id: instance.id, block_id: blockId });
    const { signalId } = await this.instances.sendSignal(instance.id, HUMAN_REVIEW_SIGNAL, { ...decision, block_id: blockId });
    return { signal_id: signalId };
  }
}

/** `{approved?, reviewer?, comments?}` of a decision; `approved` is fixed by the route. */
export function decisionOf(body: Record<string, unknown>, approved: boolean, defaultReviewer: string | undefined): Decision {
  const reviewer = body.reviewer ?? defaultReviewer ?? null;
  if (reviewer !== null && (typeof reviewer !== "string" || reviewer.length > 256)) throw invalidParameter("reviewer must be a string of at most 256 characters", { parameter: "reviewer" });
  const comments = body.comments ?? body.comment ?? null;
  if (comments !== null && (typeof comments !== "string" || comments.length > 2_000)) throw invalidParameter("comments must be a string of at most 2000 characters", { parameter: "comments" });
  return { approved, reviewer: reviewer as string | null, comments: comments as string | null };
}

function toItem(row: PendingRow): ApprovalItem {
  const blockId = blockIdOfKey(row.node_key);
  const step = findStep(row.blocks ?? [], blockId);
  const data = row.node.data ?? {};
  const timeoutMs = step?.params?.timeout_ms === undefined ? undefined : Number(step.params.timeout_ms);
  const since = typeof data.since === "number" ? data.since : undefined;
  const prompt = typeof data.prompt === "string" ? data.prompt : typeof step?.params?.prompt === "string" ? step.params.prompt : "";
  return {
    instance_id: row.instance_id,
    tenant_id: row.tenant_id,
    namespace: row.namespace,
    sequence_id: row.sequence_id,
    sequence_name: row.sequence_name,
    block_id: blockId,
    node_id: row.node_key,
    prompt,
    choices: CHOICES,
    store_as: null,
    timeout_seconds: timeoutMs !== undefined && Number.isFinite(timeoutMs) ? Math.round(timeoutMs / 1000) : null,
    escalation_handler: typeof step?.params?.escalation_handler === "string" ? step.params.escalation_handler : null,
    waiting_since: since !== undefined ? timestampJson(new Date(since)) : null,
    deadline: since !== undefined && timeoutMs !== undefined && Number.isFinite(timeoutMs) ? timestampJson(new Date(since + timeoutMs)) : null,
    metadata: row.metadata ?? {},
    allow_comment: true,
  };
}

function findStep(blocks: Block[], id: string): StepBlock | undefined {
  for (const block of walkBlocks(blocks)) if (block.id === id && block.type === "step") return block;
  return undefined;
}
