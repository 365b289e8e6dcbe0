/**
 * The runtime's failures in Docker's terms, mapped once at the runtime boundary: runc's and
 * conmon's own words go in, error kinds (and Docker's 126/127 exit codes) come out.
 * Pure mapping; no process is run here.
 */
import { BerthError, failedPrecondition } from "../base/errors.js";

/** The process could not be invoked: 127 when the command is not found, 126 when it cannot run. */
export class CommandInvocationError extends BerthError {
  constructor(
    message: string,
    readonly exitCode: 126 | 127,
  ) {
    super("FailedPrecondition", message);
    this.name = "CommandInvocationError";
  }
}

/** Maps runc's create failure to Docker's meaning: 127 not found, 126 cannot execute, else a failure. */
export function invocationError(message: string): BerthError {
  const text = `OCI runtime create failed: ${message}`;
  if (/executable file not found|no such file or directory/i.test(message))
    return new CommandInvocationError(text, 127);
  if (/permission denied|exec format error|is a directory/i.test(message))
    return new CommandInvocationError(text, 126);
  return failedPrecondition(text);
}

/**
 * runc's exec failure as Docker reports it (containerd's wording), with Docker's exit code:
 * 127 when the command is not found, 126 for any other failure to start it.
 */
export function execInvocationError(runcText: string): CommandInvocationError {
  const msg = `OCI runtime exec failed: ${runcText}: unknown`;
  const notFound = /executable file not found|no such file or directory/i.test(runcText);
  return new CommandInvocationError(msg, notFound ? 127 : 126);
}

/** A runc command failed; `runtimeMessage` is runc's own words, for the caller's message. */
export class RuncCommandError extends BerthError {
  constructor(
    message: string,
    readonly runtimeMessage: string,
  ) {
    super("Internal", message);
    this.name = "RuncCommandError";
  }
}
