/**
 * The container's user, resolved from `Config.User` and the image's /etc/passwd and
 * /etc/group as Docker does (moby/sys/user `GetExecUser`, `GetAdditionalGroups`, and the daemon's
 * `getUser`). Pure: the runtime driver reads the two files from the container's rootfs (absent
 * files are passed as undefined) and calls `resolveUser`.
 *
 * Rules:
 * - `userSpec` is "", "name", "uid", "name:group", "uid:gid", "name:gid" or "uid:group".
 * - A value that parses as a decimal integer (Go `strconv.Atoi`: optional sign) is an ID and is
 *   never looked up as a name; it must be in 0 … 2^31-1, else
 *   `uids and gids must be in range 0-2147483647`.
 * - "" means uid 0 (the first passwd entry with uid 0 supplies gid and home, if any).
 * - A name not in passwd: `unable to find user NAME: no matching entries in passwd file`; a
 *   group name not in group: `unable to find group NAME: no matching entries in group file`.
 * - A numeric uid without a passwd entry keeps gid 0 and home "/" unless a group is given.
 * - Without an explicit group, a user found in passwd gets the supplementary groups that list
 *   its name in /etc/group; with an explicit group, none.
 * - `groupAdd` entries (names or IDs) are looked up in /etc/group; numeric ones not found are
 *   used as they are; names not found fail like a group name.
 * - additionalGids = [gid, …supplementary, …groupAdd] (Docker puts the primary gid first).
 */
import { invalidArgument } from "../../base/errors.js";

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** The primary gid first, then the user's supplementary groups, then --group-add ones. */
  additionalGids: number[];
  /** The passwd home directory, or "/" when there is none (runc's default). */
  home: string;
}

export interface UserFiles {
  /** Contents of the rootfs's /etc/passwd, or undefined when it does not exist. */
  passwd?: string;
  /** Contents of the rootfs's /etc/group, or undefined when it does not exist. */
  group?: string;
}

const MAX_ID = 2 ** 31 - 1;
const RANGE_MESSAGE = `uids and gids must be in range 0-${MAX_ID}`;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Go's strconv.Atoi on a field of a passwd/group line, errors read as 0. */
function fieldInt(text: string | undefined): number {
  if (text === undefined || !/^[+-]?\d+$/.test(text)) return 0;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : 0;
}

function lines(text: string, skipComments: boolean): string[][] {
  const out: string[][] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || (skipComments && line.startsWith("#"))) continue;
    out.push(line.split(":"));
  }
  return out;
}

function parsePasswd(text: string): PasswdEntry[] {
  return lines(text, false).map((f) => ({
    name: f[0] ?? "",
    uid: fieldInt(f[2]),
    gid: fieldInt(f[3]),
    home: f[5] ?? "",
  }));
}

function parseGroup(text: string): GroupEntry[] {
  return lines(text, true).map((f) => ({
    name: f[0] ?? "",
    gid: fieldInt(f[2]),
    members: f[3] ? f[3].split(",") : [],
  }));
}

/**
 * An ID argument as moby/sys/user `parseNumeric`: undefined when not numeric (a name), the
 * number when numeric and in range, an error when numeric and out of range.
 */
function parseNumeric(value: string): number | undefined {
  if (value === "" || !/^[+-]?\d+$/.test(value)) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ID) throw invalidArgument(RANGE_MESSAGE);
  return n;
}

/** Resolves a user specification (`Config.User`) and `HostConfig.GroupAdd` as Docker does. */
export function resolveUser(
  userSpec: string,
  files: UserFiles,
  groupAdd?: readonly string[] | null,
): ResolvedUser {
  const parts = userSpec.split(":");
  const userArg = parts[0] ?? "";
  const groupArg = parts[1] ?? "";
  const uidArg = parseNumeric(userArg);
  const gidArg = parseNumeric(groupArg);

  let uid = 0;
  let gid = 0;
  let home = "";
  let matchedName = "";
  const users = files.passwd === undefined ? [] : parsePasswd(files.passwd);
  const match = users.find((u) =>
    userArg === "" ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg,
  );
  if (match) {
    matchedName = match.name;
    uid = match.uid;
    gid = match.gid;
    home = match.home;
  } else if (userArg !== "") {
    if (uidArg === undefined)
      throw invalidArgument(`unable to find user ${userArg}: no matching entries in passwd file`);
    uid = uidArg;
  }

  const sgids: number[] = [];
  if (groupArg !== "" || matchedName !== "") {
    const groups = files.group === undefined ? [] : parseGroup(files.group);
    if (groupArg !== "") {
      const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
      if (g) gid = g.gid;
      else if (gidArg === undefined)
        throw invalidArgument(`unable to find group ${groupArg}: no matching entries in group file`);
      else gid = gidArg;
    } else {
      for (const g of groups) if (g.members.includes(matchedName)) sgids.push(g.gid);
    }
  }

  const added = additionalGroups(groupAdd ?? [], files.group);
  return { uid, gid, additionalGids: [gid, ...sgids, ...added], home: home === "" ? "/" : home };
}

/** `--group-add` (moby/sys/user `GetAdditionalGroups`), deduplicated, in the order given. */
function additionalGroups(names: readonly string[], groupText: string | undefined): number[] {
  if (names.length === 0) return [];
  const args = names.map((name) => ({ name, gid: parseNumeric(name) }));
  const groups = groupText === undefined ? [] : parseGroup(groupText);
  const out: number[] = [];
  for (const a of args) {
    const g = groups.find((e) => (a.gid !== undefined ? e.gid === a.gid : e.name === a.name));
    let gid: number;
    if (g) {
      if (g.gid < 0 || g.gid > MAX_ID) throw invalidArgument(RANGE_MESSAGE);
      gid = g.gid;
    } else if (a.gid === undefined) {
      throw invalidArgument(`unable to find group ${a.name}: no matching entries in group file`);
    } else {
      gid = a.gid;
    }
    if (!out.includes(gid)) out.push(gid);
  }
  return out;
}
