// drizzle applies a migration only when its journal `when` is later than the last one a database has
// applied: one written with an earlier timestamp is silently skipped on every existing database.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const services = readdirSync(path.join(root, "services")).filter((name) => readdirSync(path.join(root, "services", name)).includes("drizzle"));

describe.each(services)("%s's migration journal", (service) => {
  const folder = path.join(root, "services", service, "drizzle");
  const { entries } = JSON.parse(readFileSync(path.join(folder, "meta", "_journal.json"), "utf8")) as { entries: { idx: number; when: number; tag: string }[] };

  it("numbers its entries 0, 1, 2… with strictly increasing timestamps", () => {
    expect(entries.map((e) => e.idx)).toEqual(entries.map((_, i) => i));
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.when, entries[i]!.tag).toBeGreaterThan(entries[i - 1]!.when);
  });

  it("names exactly the SQL files of the folder, each tag starting with its number", () => {
    const files = readdirSync(folder).filter((f) => f.endsWith(".sql")).map((f) => f.replace(/\.sql$/, "")).sort();
    expect(entries.map((e) => e.tag)).toEqual(files);
    for (const e of entries) expect(e.tag.startsWith(String(e.idx).padStart(4, "0"))).toBe(true);
  });
});
