import { randomUUID } from "node:crypto";
import { timestampDate, timestampFromDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, payloadTooLarge } from "@cloudforet/errors";
import { MetricService, MetricServiceGetDataRequest_Stat } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { callerOf } from "@cloudforet/runtime";
import { isStorableText } from "../storable-text";
import type { MetricRepository, Statistic } from "./repository";
import {
  MAX_BATCH_ITEMS,
  MAX_BUCKETS,
  MAX_RESOURCES,
  bucketCount,
  checkSample,
  metricNameProblem,
  problemError,
  type SampleProblem,
  type TimeWindow,
  type ValidSample,
} from "./rules";

/** Ingest writes at most this many messages' rows concurrently (each on its own connection). */
const MAX_WRITES_IN_FLIGHT = 2;
/** Ingest reports at most this many failures (failed_count counts them all). */
const MAX_REPORTED_FAILURES = 1000;

function fromListRow(row: Record<string, unknown>) {
  return {
    metricId: row.metric_id as string | undefined,
    resourceId: row.resource_id as string | undefined,
    metricName: row.metric_name as string | undefined,
    value: row.value as number | undefined,
    unit: row.unit as string | undefined,
    timestamp: row.timestamp instanceof Date ? timestampFromDate(row.timestamp) : undefined,
    dimensions: row.dimensions as Record<string, string> | undefined,
  };
}

export function metricHandlers(repo: MetricRepository, retentionDays: number): ServiceImpl<typeof MetricService> {
  const windowNow = (): TimeWindow => {
    const now = Date.now();
    return { now, oldest: now - retentionDays * 86_400_000, retentionDays };
  };

  return {
    async push(req, ctx) {
      const { domainId } = callerOf(ctx);
      const checked = checkSample(req, windowNow());
      if (!checked.ok) throw problemError(checked.problem);
      const metricId = `metric-${randomUUID()}`;
      await repo.insert(domainId, [{ ...checked.sample, metricId }]);
      const { resourceId, metricName, value } = checked.sample;
      return { metricId, resourceId, metricName, value, createdAt: timestampFromDate(new Date()) };
    },

    async pushBatch(req, ctx) {
      const { domainId } = callerOf(ctx);
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
      await repo.insert(domainId, valid);
      return { createdCount: valid.length, failedCount: failures.length, resourceId: req.resourceId, failures };
    },

    async ingest(requests, ctx) {
      const { domainId } = callerOf(ctx);
      let index = 0;
      let createdCount = 0;
      let failedCount = 0;
      const failures: { index: number; resourceId: string; metricName: string; parameter: string; message: string }[] = [];
      // Up to two messages' rows are written at once while the next message is read and validated.
      const writing = new Set<Promise<number>>();
      const settle = async (write: Promise<number>) => {
        writing.delete(write);
        createdCount += await write;
      };
      for await (const message of requests) {
        if (message.samples.length > MAX_BATCH_ITEMS) {
          // What earlier messages wrote is kept: let it land before the stream fails, so callers can count it.
          await Promise.allSettled(writing);
          throw payloadTooLarge("An Ingest message holds at most 10,000 samples", { parameter: "samples", value: message.samples.length });
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
        const write = repo.insert(domainId, valid);
        write.catch(() => {}); // settled (and its error thrown) by settle(); keeps it from counting as unhandled meanwhile
        writing.add(write);
      }
      for (const write of [...writing]) await settle(write);
      return { createdCount, failedCount, failures };
    },

    async query(req, ctx) {
      const { domainId } = callerOf(ctx);
      const { results, total_count } = await repo.list(domainId, req.query, new Date(windowNow().oldest));
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async getData(req, ctx) {
      const { domainId } = callerOf(ctx);
      if (req.resourceIds.length === 0) throw missingParameter("resource_ids");
      if (req.resourceIds.length > MAX_RESOURCES) throw invalidParameter("At most 100 resource_ids", { parameter: "resource_ids", value: req.resourceIds.length });
      const emptyId = req.resourceIds.findIndex((id) => !id || id.length > 255 || !isStorableText(id));
      if (emptyId >= 0) throw invalidParameter("resource_ids must be 1-255 characters each", { parameter: `resource_ids[${emptyId}]` });
      const nameProblem = metricNameProblem(req.metricName);
      if (nameProblem) throw problemError(nameProblem);
      const startMs = instantMs(req.start, "start");
      const endMs = instantMs(req.end, "end");
      if (endMs <= startMs) throw invalidParameter("end must be after start", { parameter: "end", value: new Date(endMs).toISOString() });
      const periodSeconds = req.period === 0 ? 60 : req.period;
      if (periodSeconds < 1) throw invalidParameter("period must be a positive number of seconds", { parameter: "period", value: req.period });
      if (bucketCount(startMs, endMs, periodSeconds) > MAX_BUCKETS) {
        throw invalidParameter("More than 10,000 buckets per series; widen the period or narrow the range", { parameter: "period", value: periodSeconds });
      }
      const stat = MetricServiceGetDataRequest_Stat[req.stat] as Statistic | undefined;
      if (!stat) throw invalidParameter("stat must be AVG, MIN, MAX, SUM or COUNT", { parameter: "stat", value: req.stat });
      const buckets = await repo.buckets({ domainId, resourceIds: req.resourceIds, metricName: req.metricName, startMs, endMs, periodSeconds, stat });
      return {
        series: req.resourceIds.map((resourceId) => ({
          resourceId,
          points: buckets.filter((b) => b.resourceId === resourceId).map((b) => ({ timestamp: timestampFromMs(b.startMs), value: b.value })),
        })),
      };
    },
  };
}

function ingestFailure(index: number, sample: { resourceId: string; metricName: string }, problem: SampleProblem) {
  return { index, resourceId: sample.resourceId, metricName: sample.metricName, parameter: problem.parameter, message: problem.message };
}

/** A required request time as epoch milliseconds. */
function instantMs(timestamp: Parameters<typeof timestampDate>[0] | undefined, parameter: string): number {
  if (!timestamp) throw missingParameter(parameter);
  const ms = timestampDate(timestamp).getTime();
  if (!Number.isFinite(ms)) throw invalidParameter(`${parameter} is not a valid instant`, { parameter });
  return ms;
}
