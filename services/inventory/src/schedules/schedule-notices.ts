import { notify, type DatabaseExecutor } from "@cloudforet/db";

/**
 * Postgres NOTIFY channel of collector schedules: sent in the transaction that creates a collector
 * with a schedule or changes, enables or disables one, so every replica's scheduler recomputes its
 * sleep on commit instead of polling.
 */
export const INVENTORY_SCHEDULES_CHANNEL = "cloudforet_inventory.schedules";

export const noticeSchedulesChanged = (tx: DatabaseExecutor) => notify(tx, INVENTORY_SCHEDULES_CHANNEL);
