import assert from "node:assert/strict";
import { test } from "node:test";
import { findByIdNameOrPrefix, type LookupReads } from "./lookup.js";

const objects = new Map([
  ["abc123", "first"],
  ["abd456", "second"],
  ["fff000", "named-by-id"],
]);
const names = new Map([
  ["web", "abd456"],
  // A name that is also another object's ID prefix: the name wins, as Docker's.
  ["abc", "fff000"],
]);
const reads: LookupReads<string> = {
  byId: (id) => objects.get(id),
  byName: (name) => {
    const id = names.get(name);
    return id === undefined ? undefined : objects.get(id);
  },
  idsByPrefix: (prefix) => [...objects.keys()].filter((id) => id.startsWith(prefix)),
  ambiguous: (count) => new Error(`${count} match`),
};

test("the full ID first, then the name, then a unique hex prefix of the ID", () => {
  assert.equal(findByIdNameOrPrefix("abc123", "abc123", reads), "first");
  assert.equal(findByIdNameOrPrefix("web", "web", reads), "second");
  assert.equal(findByIdNameOrPrefix("abc", "abc", reads), "named-by-id");
  assert.equal(findByIdNameOrPrefix("abd", "abd", reads), "second");
  assert.equal(findByIdNameOrPrefix("ff", "ff", reads), "named-by-id");
});

test("a prefix several IDs share is the caller's error; what matches nothing is undefined", () => {
  assert.throws(() => findByIdNameOrPrefix("ab", "ab", reads), { message: "2 match" });
  assert.equal(findByIdNameOrPrefix("nothing", "nothing", reads), undefined);
  // Not hex: never taken as a prefix.
  assert.equal(findByIdNameOrPrefix("zz", "zz", reads), undefined);
  // The name read gets the name as given apart from the ID (a container's "/web").
  assert.equal(findByIdNameOrPrefix("/web", "web", reads), "second");
});
