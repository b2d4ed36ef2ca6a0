import { notify, type DatabaseExecutor } from "@cloudforet/db";

/**
 * Postgres NOTIFY channel of inventory's background work: sent in the transaction that creates a
 * job (a new timeout for the sweepers), creates a pull task or hands one back (work to claim), so
 * every replica's sweeper and claim loop wakes on commit instead of polling the tables.
 */
export const INVENTORY_JOBS_CHANNEL = "cloudforet_inventory.jobs";

export const noticeJobsChanged = (tx: DatabaseExecutor) => notify(tx, INVENTORY_JOBS_CHANNEL);
