import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { DatabaseExecutor } from "@cloudforet/db";
import { signals, type SignalRow } from "../db/schema";

/** Signals are appended in order and consumed by the engine that holds the instance. */
export async function enqueueSignal(exec: DatabaseExecutor, instanceId: string, signalType: string, payload: unknown): Promise<string> {
  const id = randomUUID();
  await exec.insert(signals).values({ id, instanceId, signalType, payload: payload === undefined ? null : payload });
  return id;
}

export async function pendingSignals(exec: DatabaseExecutor, instanceId: string): Promise<SignalRow[]> {
  return exec
    .select()
    .from(signals)
    .where(and(eq(signals.instanceId, instanceId), eq(signals.processed, false)))
    .orderBy(asc(signals.seq));
}

export async function markSignalsProcessed(exec: DatabaseExecutor, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await exec
    .update(signals)
    .set({ processed: true, processedAt: sql`now()` as unknown as Date })
    .where(inArray(signals.id, ids));
}
