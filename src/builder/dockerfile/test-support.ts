/**
 * Helpers shared by the Dockerfile unit tests (a test-only module: only test files may import
 * it). Owns the fixtures more than one builder test needs; never code a build runs.
 */
import assert from "node:assert/strict";
import type { Instruction } from "./ast.js";
import { parseDockerfileSyntax } from "./parse.js";

/** The syntax node of a Dockerfile's first line, not yet checked (what a typed parse receives). */
export function syntaxNode(text: string): Instruction {
  const i = parseDockerfileSyntax(text, { file: "Dockerfile" }).instructions[0];
  assert.ok(i);
  return i;
}
