import type { JsonObject } from "@bufbuild/protobuf";
import { CloudServiceService, type CloudServiceServiceUpsertRequest } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CloudServiceServiceUpsertRequestSchema } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { ClientError, createServiceClient, ErrorCategory } from "@cloudforet/resilience";
import type { Logger } from "pino";

export type UpsertItem = MessageInitShape<typeof CloudServiceServiceUpsertRequestSchema>;

export interface SinkResult {
  createdCount: number;
  updatedCount: number;
  failedCount: number;
  errors: { index: number; message: string; resourceId: string }[];
}

/** The collection a batch belongs to (collector rules and change history use it). */
export interface UpsertContext {
  domainId: string;
  jobId: string;
}

/** Where collected resources go: cloud-service, through its API only. */
export interface ResourceSink {
  upsert(items: UpsertItem[], authorization: string | null, signal?: AbortSignal, context?: UpsertContext): Promise<SinkResult>;
  /** Registers a resource type a plugin reported; an existing one is fine. */
  ensureType(type: JsonObject, authorization: string | null): Promise<void>;
}

const attempts = 3;

/**
 * Writes batches with CloudServiceService.BatchUpsert. A batch is idempotent (upserts by match
 * rules), so a transient failure is retried here, with backoff, where the generic retry would not
 * retry a stream.
 */
export function cloudServiceSink(cloudServiceUrl: string, logger: Logger): ResourceSink {
  const options = { logger, upstream: "cloud-service", timeoutMs: 120_000 };
  const resources = createServiceClient(CloudServiceService, cloudServiceUrl, options);
  const types = createServiceClient(CloudServiceTypeService, cloudServiceUrl, { ...options, timeoutMs: 10_000 });
  const headers = (authorization: string | null) => (authorization ? { authorization } : {});
  return {
    async upsert(items, authorization, signal) {
      for (let attempt = 1; ; attempt++) {
        try {
          const answer = await resources.batchUpsert(
            (async function* () {
              yield { items };
            })(),
            { headers: headers(authorization), signal },
          );
          return {
            createdCount: answer.createdCount,
            updatedCount: answer.updatedCount,
            failedCount: answer.failedCount,
            errors: answer.errors.map((e) => ({ index: e.index, message: `${e.errorCode}: ${e.message}`, resourceId: e.resourceId })),
          };
        } catch (err) {
          const failure = ClientError.from(err);
          if (attempt >= attempts || !failure.shouldRetry || signal?.aborted) throw failure;
          const delay = Math.random() * 200 * 2 ** attempt;
          logger.warn({ attempt, delay_ms: Math.round(delay), error_code: failure.errorCode }, "batch upsert failed; retrying");
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    },
    async ensureType(type, authorization) {
      const text = (key: string) => (typeof type[key] === "string" ? (type[key] as string) : "");
      try {
        await types.create(
          {
            key: text("key"),
            group: text("group"),
            name: text("name"),
            provider: text("provider"),
            metadata: (type.metadata && typeof type.metadata === "object" && !Array.isArray(type.metadata) ? type.metadata : {}) as JsonObject,
          },
          { headers: headers(authorization) },
        );
      } catch (err) {
        const failure = ClientError.from(err);
        if (failure.category === ErrorCategory.CONFLICT) return;
        throw failure;
      }
    },
  };
}

export type { CloudServiceServiceUpsertRequest };
