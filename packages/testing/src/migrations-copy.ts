import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface MigrationsCopy {
  /** A temporary drizzle-kit migrations folder to pass to `migrate`. */
  folder: string;
  remove(): Promise<void>;
}

/**
 * A temporary copy of a drizzle-kit migrations folder whose SQL targets `schema` instead of
 * `fromSchema`, so a test file can apply a service's (or a fixture's) migrations to its own
 * isolated schema.
 */
export async function copyMigrationsForSchema(
  migrationsFolder: string,
  fromSchema: string,
  schema: string,
): Promise<MigrationsCopy> {
  const folder = await mkdtemp(join(tmpdir(), "cloudforet-migrations-"));
  await cp(migrationsFolder, folder, { recursive: true });
  for (const file of await readdir(folder)) {
    if (!file.endsWith(".sql")) continue;
    const path = join(folder, file);
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replaceAll(`"${fromSchema}"`, `"${schema}"`));
  }
  return { folder, remove: () => rm(folder, { recursive: true, force: true }) };
}
