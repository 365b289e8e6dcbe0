/**
 * Docker's order for finding an object a user named by ID, name or ID prefix (containers,
 * networks): the full ID, then the name, then a unique prefix of the ID (hex digits only); a
 * prefix several IDs share is the caller's own ambiguity error. Pure: the caller supplies the
 * reads, this module never touches a store.
 */
export interface LookupReads<T> {
  byId(id: string): T | undefined;
  byName(name: string): T | undefined;
  idsByPrefix(prefix: string): readonly string[];
  /** The error for a prefix that `count` IDs share. */
  ambiguous(count: number): Error;
}

export function findByIdNameOrPrefix<T>(ref: string, name: string, reads: LookupReads<T>): T | undefined {
  const byId = reads.byId(ref);
  if (byId) return byId;
  const byName = reads.byName(name);
  if (byName) return byName;
  if (/^[a-f0-9]+$/.test(ref)) {
    const ids = reads.idsByPrefix(ref);
    if (ids.length > 1) throw reads.ambiguous(ids.length);
    if (ids[0]) return reads.byId(ids[0]);
  }
  return undefined;
}
