/**
 * What the server remembers between requests, in memory as dockerd does: attaches waiting for
 * their container to start (the docker CLI attaches before it starts), the attached sessions of
 * running containers (for resize), and exec instances (create, start, inspect are three calls).
 * None of it outlives the server process, and it never holds what the store owns: a container's
 * state is always asked of the engine.
 */
import type { AttachHandlers, AttachSession, ExecConfig, ExecSession } from "../engine/types.js";

/** An attach to a container that is not running yet: served by the next start. */
export interface PendingAttach {
  readonly handlers: AttachHandlers;
  /** The container started with this attach: its session (stdin, resize, detach). */
  started(session: AttachSession): void;
  /** The start failed: the attach ends. */
  failed(err: unknown): void;
}

export interface ExecRecord {
  readonly ID: string;
  readonly ContainerID: string;
  readonly config: ExecConfig;
  readonly detachKeys: string;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  session?: ExecSession;
  /** A resize that came before the process ran (the CLI resizes right after start). */
  pendingSize?: [number, number];
  /** When it ended (ms), for forgetting old records. */
  endedAt?: number;
}

/** Exec records kept after they end, at most (the oldest are forgotten first). */
const MAX_ENDED_EXECS = 1000;

export class Sessions {
  private readonly pending = new Map<string, Set<PendingAttach>>();
  private readonly attached = new Map<string, Set<AttachSession>>();
  readonly execs = new Map<string, ExecRecord>();

  addPending(containerId: string, p: PendingAttach): () => void {
    return addToSet(this.pending, containerId, p);
  }

  /** Takes the attaches waiting for this container (the start that serves them calls this). */
  takePending(containerId: string): PendingAttach[] {
    const set = this.pending.get(containerId);
    this.pending.delete(containerId);
    return set ? [...set] : [];
  }

  addAttached(containerId: string, s: AttachSession): () => void {
    return addToSet(this.attached, containerId, s);
  }

  /** One live session of the container, to resize its terminal through. */
  anyAttached(containerId: string): AttachSession | undefined {
    const set = this.attached.get(containerId);
    return set ? [...set][0] : undefined;
  }

  addExec(rec: ExecRecord): void {
    this.execs.set(rec.ID, rec);
    const ended = [...this.execs.values()].filter((e) => e.endedAt !== undefined);
    if (ended.length > MAX_ENDED_EXECS) {
      ended.sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0));
      for (const e of ended.slice(0, ended.length - MAX_ENDED_EXECS)) this.execs.delete(e.ID);
    }
  }
}

/** Adds `value` to `key`'s set in `sets`; the function returned removes it (and an emptied set). */
function addToSet<T>(sets: Map<string, Set<T>>, key: string, value: T): () => void {
  let set = sets.get(key);
  if (!set) {
    set = new Set();
    sets.set(key, set);
  }
  set.add(value);
  return () => {
    set.delete(value);
    if (set.size === 0 && sets.get(key) === set) sets.delete(key);
  };
}
