/**
 * Decoding of SQLite rows into typed values: rows are data from outside the type system.
 * Pure: it decodes rows it is given; it never queries.
 */
import { internal } from "../base/errors.js";
import type { MetadataDb } from "./db.js";

export type Row = Readonly<Record<string, unknown>>;

export function asRow(v: unknown): Row {
  if (typeof v !== "object" || v === null) throw internal("metadata: expected a row");
  return v as Row;
}

export function str(row: Row, col: string): string {
  const v = row[col];
  if (typeof v !== "string") throw internal(`metadata: column ${col} is not text`);
  return v;
}

export function optStr(row: Row, col: string): string | undefined {
  const v = row[col];
  if (v === null || v === undefined) return undefined;
  if (typeof v !== "string") throw internal(`metadata: column ${col} is not text`);
  return v;
}

export function num(row: Row, col: string): number {
  const v = row[col];
  if (typeof v === "bigint") return Number(v);
  if (typeof v !== "number") throw internal(`metadata: column ${col} is not a number`);
  return v;
}

export function jsonRecord(row: Row, col: string): Record<string, string> {
  const parsed: unknown = JSON.parse(str(row, col));
  const out: Record<string, string> = {};
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
    for (const [k, v] of Object.entries(parsed)) if (typeof v === "string") out[k] = v;
  }
  return out;
}

/** Statement helpers shared by the typed table classes (images, volumes, …). */
export abstract class Queries {
  constructor(readonly db: MetadataDb) {}

  protected all(sql: string, ...params: unknown[]): Row[] {
    return this.db
      .prepared(sql)
      .all(...params)
      .map(asRow);
  }

  protected one(sql: string, ...params: unknown[]): Row | undefined {
    const r = this.db.prepared(sql).get(...params);
    return r === undefined ? undefined : asRow(r);
  }

  protected run(sql: string, ...params: unknown[]): number {
    return this.db.prepared(sql).run(...params).changes;
  }
}
