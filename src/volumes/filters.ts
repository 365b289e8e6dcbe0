/**
 * Volume list and prune filters, with the keys Docker accepts and its error wording.
 * Pure: it decides which records match; it never reads the store.
 */
import { invalidArgument } from "../base/errors.js";
import type { Filters } from "../engine/types.js";

/** Keys of GET /volumes?filters=… */
export const LIST_FILTERS = ["dangling", "driver", "label", "name"] as const;
/** Keys of POST /volumes/prune?filters=… (`all` since API 1.42). */
export const PRUNE_FILTERS = ["label", "label!", "all"] as const;

/** Rejects keys a command does not accept: `invalid filter 'foo'`, as Docker says. */
export function checkFilterKeys(filters: Filters | undefined, allowed: readonly string[]): void {
  for (const key of Object.keys(filters ?? {})) {
    if (!allowed.includes(key)) throw invalidArgument(`invalid filter '${key}'`);
  }
}

/** A boolean filter (`dangling`, `all`): true/1 or false/0, undefined when absent. */
export function boolFilter(filters: Filters | undefined, key: string): boolean | undefined {
  let result: boolean | undefined;
  for (const v of filters?.[key] ?? []) {
    const lower = v.toLowerCase();
    let b: boolean;
    if (lower === "true" || lower === "1") b = true;
    else if (lower === "false" || lower === "0") b = false;
    else throw invalidArgument(`invalid filter '${key}=${v}'`);
    // Docker's WalkValues keeps the last value.
    result = b;
  }
  return result;
}

/** True when one `label=` value (`key` or `key=value`) matches the labels. */
export function labelMatches(labels: Readonly<Record<string, string>>, wanted: string): boolean {
  const eq = wanted.indexOf("=");
  if (eq < 0) return Object.hasOwn(labels, wanted);
  const key = wanted.slice(0, eq);
  return Object.hasOwn(labels, key) && labels[key] === wanted.slice(eq + 1);
}

/** `label=` filters: every value must match. */
export function matchAllLabels(labels: Readonly<Record<string, string>>, wanted: readonly string[]): boolean {
  return wanted.every((w) => labelMatches(labels, w));
}

/** `label!=` filters: no value may match. */
export function matchNoLabel(labels: Readonly<Record<string, string>>, unwanted: readonly string[]): boolean {
  return !unwanted.some((w) => labelMatches(labels, w));
}

/** `name=`/`driver=`: any value matching all or part of the field. */
export function matchAnyPart(field: string, wanted: readonly string[]): boolean {
  return wanted.length === 0 || wanted.some((w) => field.includes(w));
}
