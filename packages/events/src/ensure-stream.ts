import { JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import type { Logger } from "pino";

export interface StreamSettings {
  name: string;
  subjects: string[];
  /** Window in which a repeated Nats-Msg-Id is dropped by the broker. */
  duplicateWindowMs: number;
  /** How long events are kept (for durables that are behind or new). */
  maxAgeMs: number;
}

/** Creates the stream, or brings an existing one's subjects and windows up to date. */
export async function ensureStream(jsm: JetStreamManager, settings: StreamSettings, logger: Logger): Promise<void> {
  const wanted = {
    subjects: settings.subjects,
    duplicate_window: nanos(settings.duplicateWindowMs),
    max_age: nanos(settings.maxAgeMs),
  };
  try {
    const info = await jsm.streams.info(settings.name);
    const current = info.config;
    const upToDate =
      sameMembers(current.subjects ?? [], wanted.subjects) &&
      current.duplicate_window === wanted.duplicate_window &&
      current.max_age === wanted.max_age;
    if (!upToDate) {
      await jsm.streams.update(settings.name, { ...current, ...wanted });
      logger.info({ stream: settings.name, subjects: settings.subjects }, "stream updated");
    }
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add({
      name: settings.name,
      ...wanted,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
    });
    logger.info({ stream: settings.name, subjects: settings.subjects }, "stream created");
  }
}

const sameMembers = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
