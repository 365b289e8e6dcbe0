/**
 * Errors with a kind. Every failure that crosses a module boundary is a BerthError whose kind
 * says what went wrong in terms a caller can act on; the message names the object
 * ("No such image: alpine:3.19"). Callers branch on `kind`, never on message text.
 */

export type ErrorKind =
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "InvalidArgument"
  | "FailedPrecondition"
  | "Forbidden"
  | "Unauthorized"
  | "Unavailable"
  | "NotImplemented"
  | "Canceled"
  /** A command run for the user (a build's RUN step) exited non-zero: the user's command failed, not berth. */
  | "CommandFailed"
  | "Internal";

export class BerthError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = "BerthError";
  }
}

export const notFound = (message: string, cause?: unknown) => new BerthError("NotFound", message, { cause });
export const alreadyExists = (message: string, cause?: unknown) =>
  new BerthError("AlreadyExists", message, { cause });
export const conflict = (message: string, cause?: unknown) => new BerthError("Conflict", message, { cause });
export const invalidArgument = (message: string, cause?: unknown) =>
  new BerthError("InvalidArgument", message, { cause });
export const failedPrecondition = (message: string, cause?: unknown) =>
  new BerthError("FailedPrecondition", message, { cause });
/** Refused whatever the caller sends (Docker's errdefs.Forbidden: a pre-defined network, one in use). */
export const forbidden = (message: string, cause?: unknown) =>
  new BerthError("Forbidden", message, { cause });
export const unavailable = (message: string, cause?: unknown) =>
  new BerthError("Unavailable", message, { cause });
export const notImplemented = (message: string, cause?: unknown) =>
  new BerthError("NotImplemented", message, { cause });
export const canceled = (message: string, cause?: unknown) => new BerthError("Canceled", message, { cause });
export const internal = (message: string, cause?: unknown) => new BerthError("Internal", message, { cause });

export function isBerthError(err: unknown, kind?: ErrorKind): err is BerthError {
  return err instanceof BerthError && (kind === undefined || err.kind === kind);
}

/** The one table from error kind to HTTP status (API server and client both use it). */
export const httpStatusByKind: Readonly<Record<ErrorKind, number>> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  InvalidArgument: 400,
  FailedPrecondition: 412,
  Forbidden: 403,
  Unauthorized: 401,
  Unavailable: 503,
  NotImplemented: 501,
  Canceled: 499,
  // dockerd answers a failed build step in the stream; as a status it is the daemon's generic 500.
  CommandFailed: 500,
  Internal: 500,
};

/** HTTP status → kind, for the client side of the API. */
export function kindFromHttpStatus(status: number): ErrorKind {
  switch (status) {
    case 400:
      return "InvalidArgument";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 412:
      return "FailedPrecondition";
    case 499:
      return "Canceled";
    case 501:
      return "NotImplemented";
    case 503:
      return "Unavailable";
    default:
      return "Internal";
  }
}

/**
 * The one table from kind to CLI exit code. Docker's CLI exits 1 for every daemon-reported
 * error (not found, conflict, …) and 125 for failures of `docker run` itself; usage errors exit
 * 125 for run/create and 1 elsewhere, which the CLI layer decides from the command.
 */
export const exitCodeByKind: Readonly<Record<ErrorKind, number>> = {
  NotFound: 1,
  AlreadyExists: 1,
  Conflict: 1,
  InvalidArgument: 1,
  FailedPrecondition: 1,
  Forbidden: 1,
  Unauthorized: 1,
  Unavailable: 1,
  NotImplemented: 1,
  Canceled: 130,
  CommandFailed: 1,
  Internal: 1,
};

/** Message of any thrown value, for the last line of defence. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return systemErrorText(err) ?? err.message;
  return String(err);
}

/** Go's text for the errno values a user meets (what Docker prints for the same failure). */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EBUSY: "device or resource busy",
  EEXIST: "file exists",
  EINVAL: "invalid argument",
  EISDIR: "is a directory",
  ELOOP: "too many levels of symbolic links",
  EMFILE: "too many open files",
  ENAMETOOLONG: "file name too long",
  ENOENT: "no such file or directory",
  ENOSPC: "no space left on device",
  ENOTDIR: "not a directory",
  ENOTEMPTY: "directory not empty",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EXDEV: "invalid cross-device link",
};

/**
 * A Node system error (`ENOENT: no such file or directory, open '/x'`) in Go's words, as Docker
 * reports the same failure (`open /x: no such file or directory`); undefined for other errors.
 */
export function systemErrorText(err: Error): string | undefined {
  const e = err as Error & { code?: unknown; syscall?: unknown; path?: unknown; dest?: unknown };
  if (typeof e.code !== "string" || typeof e.syscall !== "string" || !/^E[A-Z0-9]+$/.test(e.code))
    return undefined;
  const text = ERRNO_TEXT[e.code] ?? /^E[A-Z0-9]+: ([^,]+)/.exec(e.message)?.[1] ?? e.code;
  const where = [e.path, e.dest].filter((p): p is string => typeof p === "string").join(" ");
  return where ? `${e.syscall} ${where}: ${text}` : `${e.syscall}: ${text}`;
}

/** Returns the errno code (`ENOENT`, …) of a Node system error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
