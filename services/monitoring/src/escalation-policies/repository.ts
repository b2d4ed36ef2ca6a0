import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { isUniqueViolation, type Database, type DatabaseExecutor } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { alertRules, escalationPolicies, type EscalationPolicyRow, type EscalationStep } from "../db/schema";

export const escalationPolicyFields = defineQueryFields(
  {
    escalation_policy_id: col(escalationPolicies.escalationPolicyId),
    name: col(escalationPolicies.name),
    steps: json(escalationPolicies.steps),
    repeat_count: col(escalationPolicies.repeatCount, "number"),
    tags: json(escalationPolicies.tags),
    domain_id: col(escalationPolicies.domainId),
    workspace_id: col(escalationPolicies.workspaceId),
    created_at: col(escalationPolicies.createdAt),
    updated_at: col(escalationPolicies.updatedAt),
  },
  { keywordFields: ["name"], defaultSort: [{ key: "created_at" }, { key: "escalation_policy_id" }] },
);

export interface PolicyDefinition {
  name: string;
  steps: EscalationStep[];
  repeatCount: number;
  tags: Record<string, string>;
}

const readable = (scope: TenantScope) => scopeCondition(scope, escalationPolicies, { domainWideRows: true });

export class EscalationPolicyRepository {
  constructor(private readonly db: Database) {}

  async create(domainId: string, workspaceId: string, definition: PolicyDefinition): Promise<EscalationPolicyRow> {
    try {
      const [row] = await this.db
        .insert(escalationPolicies)
        .values({ escalationPolicyId: `escalation-policy-${randomUUID()}`, domainId, workspaceId, ...definition })
        .returning();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("An escalation policy of that name exists in the workspace", { name: definition.name });
      throw err;
    }
  }

  async update(row: EscalationPolicyRow, definition: PolicyDefinition): Promise<EscalationPolicyRow> {
    try {
      const [updated] = await this.db
        .update(escalationPolicies)
        .set({ ...definition, updatedAt: sql`now()` })
        .where(eq(escalationPolicies.escalationPolicyId, row.escalationPolicyId))
        .returning();
      return updated;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("An escalation policy of that name exists in the workspace", { name: definition.name });
      throw err;
    }
  }

  async get(scope: TenantScope, id: string, executor: DatabaseExecutor = this.db): Promise<EscalationPolicyRow | undefined> {
    const [row] = await executor.select().from(escalationPolicies).where(and(readable(scope), eq(escalationPolicies.escalationPolicyId, id)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, escalationPolicies, escalationPolicyFields, query, readable(scope));
  }

  /** Deletes a policy no rule uses; ERROR_CONFLICT while one does. */
  async delete(row: EscalationPolicyRow): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [user] = await tx
        .select({ id: alertRules.alertRuleId })
        .from(alertRules)
        .where(and(eq(alertRules.domainId, row.domainId), eq(alertRules.escalationPolicyId, row.escalationPolicyId)))
        .limit(1);
      if (user) throw conflict("The escalation policy is used by an alert rule", { escalation_policy_id: row.escalationPolicyId, alert_rule_id: user.id });
      const deleted = await tx.delete(escalationPolicies).where(eq(escalationPolicies.escalationPolicyId, row.escalationPolicyId)).returning({ id: escalationPolicies.escalationPolicyId });
      return deleted.length > 0;
    });
  }
}
