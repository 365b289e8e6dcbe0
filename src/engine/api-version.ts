/**
 * The Docker Engine API versions berth speaks: as a server (`berth serve` answers `/v1.41/…` to
 * `/v1.50/…`, 1.50 being what the docker 28.x CLI speaks), as a client (`berth -H`, which
 * negotiates down to an older server's version, as the docker CLI does), and as the local engine
 * (the same contract, whose `version` reports the same range).
 * Pure: versions and their comparison; it never speaks HTTP.
 */
import { unavailable } from "../base/errors.js";

/** The newest API version: served, and asked for by the client. */
export const API_VERSION = "1.50";
/** The oldest API version served and spoken. */
export const MIN_API_VERSION = "1.41";

/** Compares dotted versions numerically ("1.9" < "1.41"). */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The version a client uses with a server whose `/_ping` answered `API-Version: server`: the
 * older of the two, as the docker CLI negotiates. A server with no (or a malformed) header is
 * taken as 1.24, as the docker CLI takes it; one older than 1.41 is refused, since this client's
 * requests and decoders are those of 1.41 and later.
 */
export function negotiateApiVersion(server: string | undefined, where: string): string {
  const v = server !== undefined && /^\d+\.\d+$/.test(server.trim()) ? server.trim() : "1.24";
  if (compareApiVersions(v, MIN_API_VERSION) < 0) {
    throw unavailable(
      `the engine at ${where} speaks API version ${v}: berth needs ${MIN_API_VERSION} or later`,
    );
  }
  return compareApiVersions(v, API_VERSION) < 0 ? v : API_VERSION;
}
