/**
 * What the server remembers between requests, in memory as dockerd does: attaches waiting for
 * their container to start (the docker CLI attaches before it starts), the attached sessions of
 * running containers (for resize), and exec instances (create, start, inspect are three calls).
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
    let set = this.pending.get(containerId);
    if (!set) {
      set = new Set();
      this.pending.set(containerId, set);
    }
    set.add(p);
    return () => {
      set.delete(p);
      if (set.size === 0 && this.pending.get(containerId) === set) this.pending.delete(containerId);
    };
  }

  /** Takes the attaches waiting for this container (the start that serves them calls this). */
  takePending(containerId: string): PendingAttach[] {
    const set = this.pending.get(containerId);
    this.pending.delete(containerId);
    return set ? [...set] : [];
  }

  addAttached(containerId: string, s: AttachSession): () => void {
    let set = this.attached.get(containerId);
    if (!set) {
      set = new Set();
      this.attached.set(containerId, set);
    }
    set.add(s);
    return () => {
      set.delete(s);
      if (set.size === 0 && this.attached.get(containerId) === set) this.attached.delete(containerId);
    };
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
