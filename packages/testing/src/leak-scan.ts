import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import type postgres from "postgres";
import { SECRET_CANARY_PREFIX, captureDir } from "./secret-canary";

/**
 * What must never be stored or logged in plain text (issue 9 §2), as regular expressions that
 * mean the same in JavaScript and in Postgres (`~`), so tables are filtered by the server and
 * log lines here, by one list.
 */
export const LEAK_PATTERNS: ReadonlyArray<{ kind: string; source: string }> = [
  { kind: "secret canary", source: `${SECRET_CANARY_PREFIX}[A-Za-z0-9_]+-[0-9a-f]{12}` },
  // A signed JWT: base64url JSON header and payload ("{\"" encodes as eyJ), then a signature.
  { kind: "JWT", source: "eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{16,}" },
  // Identity's API keys: "cfk_" + 43 base64url characters (the stored 8-character key_prefix is not one).
  { kind: "API key", source: "cfk_[A-Za-z0-9_-]{43}" },
];

const combined = new RegExp(LEAK_PATTERNS.map((p) => `(?:${p.source})`).join("|"));

export interface Leak {
  kind: string;
  /** The match, shortened so that the report does not print the secret whole. */
  excerpt: string;
}

/** The leaks in one piece of text (a log line, a row as text); empty when it is clean. */
export function findLeaks(text: string): Leak[] {
  if (!combined.test(text)) return [];
  const leaks: Leak[] = [];
  for (const { kind, source } of LEAK_PATTERNS) {
    for (const match of text.matchAll(new RegExp(source, "g"))) leaks.push({ kind, excerpt: `${match[0].slice(0, 14)}…` });
  }
  return leaks;
}

export interface TableScan {
  /** "postgres/identity" — the database and schema scanned. */
  scope: string;
  tables: number;
  rows: number;
  /** "identity.users: JWT eyJhbGciOi…" per leak found. */
  findings: string[];
}

/**
 * Reads every row of every table of `schemas` (all but the system schemas when omitted) as
 * text and reports what matched a leak pattern. Partitions are read as themselves, parents
 * with partitions are skipped, so no row is counted twice.
 */
export async function scanTables(sql: postgres.Sql, schemas?: string[]): Promise<TableScan> {
  const tables = await sql<{ schema: string; name: string }[]>`
    select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
      ${schemas ? sql`and n.nspname in ${sql(schemas)}` : sql``}
    order by 1, 2`;
  const [{ current_database: database }] = await sql<{ current_database: string }[]>`select current_database()`;
  const scan: TableScan = { scope: `${database}/${schemas?.join(",") ?? "*"}`, tables: tables.length, rows: 0, findings: [] };
  if (tables.length === 0) return scan;
  const pattern = LEAK_PATTERNS.map((p) => `(${p.source})`).join("|");
  const quoted = (id: string) => `"${id.replace(/"/g, '""')}"`;
  // One round trip for the counts of every table; rows are only fetched where something matched.
  const counts = await sql.unsafe<{ i: number; rows: string; hits: string }[]>(
    tables.map(({ schema, name }, i) => `select ${i} as i, count(*) as rows, count(*) filter (where t::text ~ $1) as hits from ${quoted(schema)}.${quoted(name)} t`).join(" union all "),
    [pattern],
  );
  for (const { i, rows, hits } of counts) {
    scan.rows += Number(rows);
    if (Number(hits) === 0) continue;
    const { schema, name } = tables[i];
    const matched = await sql.unsafe<{ row: string }[]>(`select t::text as row from ${quoted(schema)}.${quoted(name)} t where t::text ~ $1 limit 20`, [pattern]);
    for (const { row } of matched) for (const leak of findLeaks(row)) scan.findings.push(`${schema}.${name}: ${leak.kind} ${leak.excerpt}`);
  }
  return scan;
}

/**
 * With a capture directory set (scripts/test.mjs sets one), scans a test database or schema
 * just before it is dropped and records the result for the sweep that runs after the suite:
 * test files drop what they create, so this is the last moment their rows exist.
 */
export async function recordScanBeforeDrop(sql: postgres.Sql, schemas?: string[]): Promise<void> {
  const dir = captureDir();
  if (!dir) return;
  let record: TableScan | { scope: string; error: string };
  try {
    record = await scanTables(sql, schemas);
  } catch (err) {
    // Dropped already (a second drop()): nothing is left to leak.
    if ((err as { code?: string }).code === "3D000") return;
    record = { scope: schemas?.join(",") ?? "*", error: String((err as Error).message ?? err) };
  }
  mkdirSync(dir, { recursive: true });
  appendFileSync(path.join(dir, `tables-${process.pid}.jsonl`), `${JSON.stringify(record)}\n`);
}
