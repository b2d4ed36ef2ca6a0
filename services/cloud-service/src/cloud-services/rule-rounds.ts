import type { JsonValue } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { isDefaultRule, matchValue, parseMatchKey, type MatchKey, type ValidResource } from "./cloud-services";
import type { CollectionRepository, UpsertValues } from "./collection-repository";
import { ambiguousMatch, collectionScope, failure, newRow, otherWorkspace, outsideCollection, upsertValues, type PlannedItem, type UpsertOutcome } from "./upsert-items";
import { ErrorCode, PlatformError } from "@cloudforet/errors";

/**
 * The batched path for items matched by custom rules (or without a resource id): what
 * ResourceWriter.upsertOne does item by item, for a whole batch with one lookup per rule shape and
 * rule position, one multi-row update and one multi-row insert per wave.
 *
 * Item by item, a later item sees what earlier ones wrote. A wave reads before it writes, so a wave
 * is a prefix of the pending items in which no item might see an earlier one's write (see
 * `interacts`), cut again before the first item that matches a resource an earlier one of the wave
 * updates. What follows waits for the next wave, so every item is decided as one by one, in order.
 */

/** An item to redo one by one (upsertOne), with the attempt it continues. */
export interface Redo {
  planned: PlannedItem;
  attempt: 1 | 2;
}

interface Probe {
  planned: PlannedItem;
  /** Per rule: its keys and the item's values, or undefined when the item lacks a value (skipped rule). */
  rules: ({ keys: MatchKey[]; paths: string[]; values: JsonValue[] } | undefined)[];
}

type Decision = { kind: "update"; values: UpsertValues } | { kind: "insert" } | { kind: "failed"; outcome: UpsertOutcome };

export async function upsertByRules(
  collected: CollectionRepository,
  domainId: string,
  canWrite: (workspaceId: string) => boolean,
  items: PlannedItem[],
  outcomes: UpsertOutcome[],
  logger: Logger,
): Promise<Redo[]> {
  const redo: Redo[] = [];
  let pending: Probe[] = [];
  for (const planned of items) {
    try {
      pending.push(probeOf(planned));
    } catch (err) {
      outcomes[planned.index] = failure(err, planned.item.reference.resource_id, logger);
    }
  }
  while (pending.length > 0) {
    const { wave, later } = splitWave(pending);
    try {
      const done = await runWave(collected, domainId, canWrite, wave, outcomes);
      redo.push(...done.redo);
      pending = [...done.deferred, ...later];
    } catch (err) {
      logger.warn({ err, items: wave.length }, "batch upsert by match rules failed; retrying its items one by one");
      redo.push(...wave.filter((p) => outcomes[p.planned.index] === undefined).map((p) => ({ planned: p.planned, attempt: 1 as const })));
      pending = later;
    }
  }
  return redo;
}

function probeOf(planned: PlannedItem): Probe {
  const rules = planned.item.matchRules.map((rule, ruleIndex) => {
    const keys: MatchKey[] = [];
    const values: JsonValue[] = [];
    for (const path of rule) {
      const key = parseMatchKey(path, `match_rules[${ruleIndex}]`);
      const value = matchValue(planned.item, key);
      // A rule with a key the item has no value for cannot select anything.
      if (value === undefined) return undefined;
      keys.push(key);
      values.push(value);
    }
    return { keys, paths: rule, values };
  });
  return { planned, rules };
}

/**
 * The longest prefix of the pending items in which each one's lookups see nothing an earlier item of
 * the prefix writes. Conservative: an earlier item counts as writing its own value at every key (or
 * any value where it has none, e.g. the workspace it is put in), and two items of one live key
 * never share a wave.
 */
function splitWave(pending: Probe[]): { wave: Probe[]; later: Probe[] } {
  const wave: Probe[] = [];
  const liveKeys = new Set<string>();
  const byKey = new Map<string, { values: Map<string, Probe[]>; anything: Probe[] }>();
  const indexed = (path: string, key: MatchKey) => {
    let index = byKey.get(path);
    if (!index) {
      index = { values: new Map(), anything: [] };
      for (const earlier of wave) add(index, earlier.planned.item, key, earlier);
      byKey.set(path, index);
    }
    return index;
  };
  const add = (index: { values: Map<string, Probe[]>; anything: Probe[] }, item: ValidResource, key: MatchKey, probe: Probe) => {
    const value = matchValue(item, key);
    if (value === undefined) index.anything.push(probe);
    else {
      const text = canonical(value);
      index.values.set(text, [...(index.values.get(text) ?? []), probe]);
    }
  };
  for (const probe of pending) {
    const { item } = probe.planned;
    const live = item.reference.resource_id ? JSON.stringify([item.provider, item.cloudServiceType, item.reference.resource_id]) : undefined;
    const clash = (live !== undefined && liveKeys.has(live)) || probe.rules.some((rule) => rule !== undefined && interacts(rule, indexed));
    if (clash) break;
    wave.push(probe);
    if (live !== undefined) liveKeys.add(live);
    for (const [path, index] of byKey) add(index, item, parseMatchKey(path, "match_rules"), probe);
  }
  return { wave, later: pending.slice(wave.length) };
}

/** Whether an earlier item of the wave may write a resource this rule would select. */
function interacts(
  rule: { keys: MatchKey[]; paths: string[]; values: JsonValue[] },
  indexed: (path: string, key: MatchKey) => { values: Map<string, Probe[]>; anything: Probe[] },
): boolean {
  let candidates: Set<Probe> | undefined;
  for (const [j, path] of rule.paths.entries()) {
    const index = indexed(path, rule.keys[j]);
    const here = new Set([...(index.values.get(canonical(rule.values[j])) ?? []), ...index.anything]);
    candidates = candidates ? new Set([...candidates].filter((p) => here.has(p))) : here;
    if (candidates.size === 0) return false;
  }
  return (candidates?.size ?? 0) > 0;
}

/** JSON with sorted object keys, so values Postgres holds equal compare equal here. */
function canonical(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(value[k] as JsonValue)}`)
    .join(",")}}`;
}

/** Looks up rule by rule (one statement per rule shape and position), then writes the wave. */
async function runWave(
  collected: CollectionRepository,
  domainId: string,
  canWrite: (workspaceId: string) => boolean,
  wave: Probe[],
  outcomes: UpsertOutcome[],
): Promise<{ redo: Redo[]; deferred: Probe[] }> {
  const decisions = new Map<Probe, Decision>();
  /** Every resource each item's lookups found, whatever became of it (an ambiguous pair too). */
  const seen = new Map<Probe, string[]>();
  const rounds = Math.max(0, ...wave.map((p) => p.rules.length));
  for (let ruleIndex = 0; ruleIndex < rounds; ruleIndex++) {
    const shapes = new Map<string, Probe[]>();
    for (const probe of wave) {
      const rule = probe.rules[ruleIndex];
      if (decisions.has(probe) || !rule) continue;
      const shape = JSON.stringify(rule.paths);
      shapes.set(shape, [...(shapes.get(shape) ?? []), probe]);
    }
    for (const probes of shapes.values()) {
      const found = await collected.findByRules(
        domainId,
        probes[0].rules[ruleIndex]!.keys,
        probes.map((p) => ({ values: p.rules[ruleIndex]!.values, within: collectionScope(p.planned) })),
      );
      for (const [i, probe] of probes.entries()) {
        const matches = found.get(i) ?? [];
        seen.set(probe, [...(seen.get(probe) ?? []), ...matches.map((m) => m.cloudServiceId)]);
        const { item } = probe.planned;
        if (matches.length > 1) decisions.set(probe, { kind: "failed", outcome: { ok: false, error: ambiguousMatch(ruleIndex, item), resourceId: item.reference.resource_id } });
        else if (matches.length === 1 && !canWrite(matches[0].workspaceId)) {
          decisions.set(probe, { kind: "failed", outcome: { ok: false, error: otherWorkspace(item), resourceId: item.reference.resource_id } });
        } else if (matches.length === 1) decisions.set(probe, { kind: "update", values: upsertValues(matches[0].cloudServiceId, probe.planned) });
      }
    }
  }
  // An item that found a resource an earlier item of the wave updates would, one by one, have
  // looked at it after that update (and perhaps not found it, or found it alone): the wave ends
  // before it, and it and what follows match again in the next one.
  const updatedBefore = new Set<string>();
  let end = wave.findIndex((probe) => {
    if ((seen.get(probe) ?? []).some((id) => updatedBefore.has(id))) return true;
    const decision = decisions.get(probe);
    if (decision?.kind === "update") updatedBefore.add(decision.values.cloudServiceId);
    return false;
  });
  if (end < 0) end = wave.length;
  const updates: { probe: Probe; values: UpsertValues }[] = [];
  const inserts: Probe[] = [];
  for (const probe of wave.slice(0, end)) {
    const decision = decisions.get(probe) ?? { kind: "insert" };
    if (decision.kind === "failed") outcomes[probe.planned.index] = decision.outcome;
    else if (decision.kind === "insert") inserts.push(probe);
    else updates.push({ probe, values: decision.values });
  }
  const redo: Redo[] = [];
  const updated = new Set(await collected.updateCollected(domainId, updates.map((u) => u.values)));
  for (const { probe, values } of updates) {
    if (updated.has(values.cloudServiceId)) outcomes[probe.planned.index] = { ok: true, created: false, cloudServiceId: values.cloudServiceId };
    else redo.push({ planned: probe.planned, attempt: 1 });
  }
  const rows = inserts.map((probe) => ({ probe, row: newRow(domainId, probe.planned.item, probe.planned.workspaceId) }));
  const inserted = new Set(await collected.insertMany(rows.map((r) => r.row)));
  for (const { probe, row } of rows) {
    const { planned } = probe;
    if (inserted.has(row.cloudServiceId!)) outcomes[planned.index] = { ok: true, created: true, cloudServiceId: row.cloudServiceId! };
    // A live resource holds the same resource id, provider and type: with the default rule a
    // concurrent writer created it (match again); with other rules it is a real conflict.
    else if (isDefaultRule(planned.item.matchRules)) redo.push({ planned, attempt: 2 });
    // A collection matches only inside its scope, so the live resource holding the key is outside it.
    else if (collectionScope(planned)) outcomes[planned.index] = { ok: false, error: outsideCollection(planned.item), resourceId: planned.item.reference.resource_id };
    else {
      outcomes[planned.index] = {
        ok: false,
        error: new PlatformError(ErrorCode.CONFLICT, "Resource already exists", { metadata: { resource_id: planned.item.reference.resource_id } }),
        resourceId: planned.item.reference.resource_id,
      };
    }
  }
  return { redo, deferred: wave.slice(end) };
}
