import { randomUUID } from "node:crypto";
import { timestampFromDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, payloadTooLarge } from "@cloudforet/errors";
import { MetricService, MetricServiceGetDataRequest_Stat } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { isStorableText, tenantScope } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import { MAX_BATCH_ITEMS, checkSample, checkSeriesRequest, problemError, writeWorkspace, type SampleProblem, type TimeWindow, type ValidSample } from "./metrics";
import type { MetricRepository, Statistic } from "./repository";
import { fromListRow } from "./to-message";

/** Ingest writes at most this many messages' rows concurrently (each on its own connection). */
const MAX_WRITES_IN_FLIGHT = 2;
/** Ingest reports at most this many failures (failed_count counts them all). */
const MAX_REPORTED_FAILURES = 1000;

export function metricHandlers(repo: MetricRepository, retentionDays: number): ServiceImpl<typeof MetricService> {
  const windowNow = (): TimeWindow => {
    const now = Date.now();
    return { now, oldest: now - retentionDays * 86_400_000, retentionDays };
  };

  return {
    async push(req, ctx) {
      const caller = callerOf(ctx);
      const workspaceId = writeWorkspace(caller, req.workspaceId);
      const checked = checkSample(req, windowNow());
      if (!checked.ok) throw problemError(checked.problem);
      const key = idempotencyKeyOf(req.idempotencyKey);
      const metricId = `metric-${randomUUID()}`;
      const { resourceId, metricName, value } = checked.sample;
      const createdAt = new Date();
      if (key) {
        const outcome = await repo.insertOnce(caller.domainId, workspaceId, [{ ...checked.sample, metricId }], key, { metric_id: metricId, created_at: createdAt.toISOString() });
        // A retry answers with the first call's id and time, and stored nothing.
        if (!outcome.stored) return { metricId: String(outcome.response.metric_id), resourceId, metricName, value, createdAt: timestampFromDate(new Date(String(outcome.response.created_at))) };
        return { metricId, resourceId, metricName, value, createdAt: timestampFromDate(createdAt) };
      }
      await repo.insert(caller.domainId, workspaceId, [{ ...checked.sample, metricId }]);
      return { metricId, resourceId, metricName, value, createdAt: timestampFromDate(createdAt) };
    },

    async pushBatch(req, ctx) {
      const caller = callerOf(ctx);
      const workspaceId = writeWorkspace(caller, req.workspaceId);
      if (!req.resourceId) throw missingParameter("resource_id");
      if (req.metrics.length === 0) throw invalidParameter("metrics must hold 1 to 10,000 items", { parameter: "metrics" });
      if (req.metrics.length > MAX_BATCH_ITEMS) throw payloadTooLarge("A batch holds at most 10,000 metrics", { parameter: "metrics", value: req.metrics.length });
      const window = windowNow();
      const valid: ValidSample[] = [];
      const failures: { index: number; parameter: string; message: string }[] = [];
      req.metrics.forEach((item, index) => {
        const checked = checkSample({ ...item, resourceId: req.resourceId, timestamp: req.timestamp }, window);
        if (checked.ok) valid.push(checked.sample);
        else failures.push({ index, parameter: checked.problem.parameter, message: checked.problem.message });
      });
      const key = idempotencyKeyOf(req.idempotencyKey);
      const response = { createdCount: valid.length, failedCount: failures.length, resourceId: req.resourceId, failures };
      if (key) {
        const outcome = await repo.insertOnce(caller.domainId, workspaceId, valid, key, response as unknown as Record<string, unknown>);
        return outcome.stored ? response : (outcome.response as unknown as typeof response);
      }
      await repo.insert(caller.domainId, workspaceId, valid);
      return response;
    },

    async ingest(requests, ctx) {
      const caller = callerOf(ctx);
      let index = 0;
      let createdCount = 0;
      let failedCount = 0;
      let duplicateCount = 0;
      const failures: { index: number; resourceId: string; metricName: string; parameter: string; message: string }[] = [];
      // Up to two messages' rows are written at once while the next message is read and validated.
      const writing = new Set<Promise<number>>();
      const settle = async (write: Promise<number>) => {
        writing.delete(write);
        createdCount += await write;
      };
      for await (const message of requests) {
        let workspaceId: string;
        try {
          workspaceId = writeWorkspace(caller, message.workspaceId);
        } catch (err) {
          await Promise.allSettled(writing); // as below: what earlier messages wrote lands first
          throw err;
        }
        if (message.samples.length > MAX_BATCH_ITEMS) {
          // What earlier messages wrote is kept: let it land before the stream fails, so callers can count it.
          await Promise.allSettled(writing);
          throw payloadTooLarge("An Ingest message holds at most 10,000 samples", { parameter: "samples", value: message.samples.length });
        }
        let key: string;
        try {
          key = idempotencyKeyOf(message.idempotencyKey);
        } catch (err) {
          await Promise.allSettled(writing);
          throw err;
        }
        const window = windowNow();
        const valid: ValidSample[] = [];
        for (const sample of message.samples) {
          const checked = checkSample(sample, window);
          if (checked.ok) valid.push(checked.sample);
          else {
            failedCount++;
            if (failures.length < MAX_REPORTED_FAILURES) failures.push(ingestFailure(index, sample, checked.problem));
          }
          index++;
        }
        if (writing.size >= MAX_WRITES_IN_FLIGHT) {
          const first = await Promise.race([...writing].map((write) => write.then(() => ({ write }), () => ({ write }))));
          await settle(first.write);
        }
        // With a key, a message a retried stream sends again stores nothing and counts as duplicates.
        const write = key
          ? repo.insertOnce(caller.domainId, workspaceId, valid, key, { created_count: valid.length }).then((outcome) => {
              if (outcome.stored) return valid.length;
              duplicateCount += Number(outcome.response.created_count ?? 0);
              return 0;
            })
          : repo.insert(caller.domainId, workspaceId, valid);
        write.catch(() => {}); // settled (and its error thrown) by settle(); keeps it from counting as unhandled meanwhile
        writing.add(write);
      }
      for (const write of [...writing]) await settle(write);
      return { createdCount, failedCount, failures, duplicateCount };
    },

    async query(req, ctx) {
      const { results, total_count } = await repo.list(tenantScope(callerOf(ctx)), req.query, new Date(windowNow().oldest));
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async getData(req, ctx) {
      const scope = tenantScope(callerOf(ctx));
      const { startMs, endMs, periodSeconds } = checkSeriesRequest(req);
      const stat = MetricServiceGetDataRequest_Stat[req.stat] as Statistic | undefined;
      if (!stat) throw invalidParameter("stat must be AVG, MIN, MAX, SUM or COUNT", { parameter: "stat", value: req.stat });
      const buckets = await repo.buckets({ scope, resourceIds: req.resourceIds, metricName: req.metricName, startMs, endMs, periodSeconds, stat });
      return {
        series: req.resourceIds.map((resourceId) => ({
          resourceId,
          points: buckets.filter((b) => b.resourceId === resourceId).map((b) => ({ timestamp: timestampFromMs(b.startMs), value: b.value })),
        })),
      };
    },
  };
}

/** An optional idempotency key: "" (none) or 1-255 characters of storable text. */
function idempotencyKeyOf(key: string): string {
  if (key.length > 255 || !isStorableText(key)) {
    throw invalidParameter("idempotency_key must be at most 255 characters of valid text without NUL", { parameter: "idempotency_key" });
  }
  return key;
}

function ingestFailure(index: number, sample: { resourceId: string; metricName: string }, problem: SampleProblem) {
  return { index, resourceId: sample.resourceId, metricName: sample.metricName, parameter: problem.parameter, message: problem.message };
}
