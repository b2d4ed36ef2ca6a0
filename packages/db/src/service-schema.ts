import { pgSchema } from "drizzle-orm/pg-core";

/** The Postgres schema that holds one service's tables (SPEC §1: `pgSchema("<service>")`). */
export const defineServiceSchema = <TName extends string>(name: TName) => pgSchema(name);
