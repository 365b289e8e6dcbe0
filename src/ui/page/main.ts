/**
 * The web view: images as blueprints (their layers as a stack), the containers made from each
 * beside it (state, ports, writable layer, how to enter it), volumes and who mounts them, and
 * what removal would refuse or lose, shown before the user acts. Everything comes from the
 * Docker Engine API on the page's own origin and is read again whenever the event journal
 * (`/events`) says something changed; no reload. Actions are the API's, with the confirmation
 * the CLI would need.
 */
import { errorMessage } from "../../base/errors.js";
import { humanSize } from "../../cli/format/units.js";
import {
  imageUsers,
  isActiveState,
  lostPaths,
  measureRemoval,
  measureStopped,
  type RemovalLoss,
} from "../../engine/removal.js";
import {
  type ChangeRow,
  type ContainerRow,
  decodeChanges,
  decodeContainerDetails,
  decodeContainers,
  decodeEvent,
  decodeHistory,
  decodeImageDetails,
  decodeImages,
  decodePrune,
  decodeVolumes,
  type EventRow,
  type HistoryRow,
  type ImageDetails,
  type ImageRow,
  type VolumeRow,
} from "../view/decode.js";
import {
  containerName,
  enterCommand,
  type ImageView,
  imageView,
  layerOwners,
  portLinks,
  sharedWith,
} from "../view/model.js";
import { followLogs, getJson, removalReader, send, streamLines } from "./api.js";
import { button, type Child, h } from "./dom.js";

const PROGRAM = "berth";
const ANONYMOUS = "com.docker.volume.anonymous";
/** Changed paths listed per container. */
const SHOWN_CHANGES = 50;

interface State {
  readonly images: readonly ImageView[];
  readonly containers: readonly ContainerRow[];
  readonly changes: ReadonlyMap<string, readonly ChangeRow[]>;
  readonly volumes: readonly VolumeRow[];
}

/** Image details and history by image ID: an image never changes, so they are read once. */
const imageFacts = new Map<string, Promise<{ details: ImageDetails; history: HistoryRow[] }>>();

function factsOf(id: string) {
  let p = imageFacts.get(id);
  if (!p) {
    const ref = encodeURIComponent(id);
    p = Promise.all([getJson(`/images/${ref}/json`), getJson(`/images/${ref}/history`)]).then(([d, hi]) => ({
      details: decodeImageDetails(d),
      history: decodeHistory(hi),
    }));
    p.catch(() => imageFacts.delete(id));
    imageFacts.set(id, p);
  }
  return p;
}

const listContainers = async (): Promise<ContainerRow[]> =>
  decodeContainers(await getJson("/containers/json?all=1&size=1"));

async function load(): Promise<State> {
  const [imgs, containers, vols] = await Promise.all([
    getJson("/images/json").then(decodeImages),
    listContainers(),
    getJson("/volumes").then(decodeVolumes),
  ]);
  const images = await Promise.all(
    imgs.map(async (row: ImageRow) => {
      const f = await factsOf(row.Id).catch(() => undefined);
      return f ? imageView(row, f.details, f.history) : undefined;
    }),
  );
  const changes = new Map<string, ChangeRow[]>();
  await Promise.all(
    containers.map(async (c) => {
      const list = await getJson(`/containers/${encodeURIComponent(c.Id)}/changes`)
        .then(decodeChanges)
        .catch(() => []);
      changes.set(c.Id, list);
    }),
  );
  const shown = images.filter((i): i is ImageView => i !== undefined);
  shown.sort((a, b) => (a.names[0] ?? "").localeCompare(b.names[0] ?? ""));
  return { images: shown, containers, changes, volumes: vols };
}

// ---- the page's fixed parts ----

/** An element of index.html, checked to be there and of its kind. */
function part<T extends HTMLElement>(id: string, kind: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`the page has no #${id}`);
  return el;
}

const root = part("app", HTMLElement);
const live = part("live", HTMLElement);
const alertBox = part("alert", HTMLElement);
const connection = part("connection", HTMLElement);
const dialog = part("dialog", HTMLDialogElement);

/** Says something in the live region (read out by screen readers) and on the page. */
function announce(text: string): void {
  live.textContent = text;
}

function showError(text: string | undefined): void {
  alertBox.textContent = text ?? "";
  alertBox.hidden = text === undefined;
}

// ---- rendering ----

let state: State | undefined;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const KIND = ["C", "A", "D"];

function layerList(img: ImageView, owners: ReadonlyMap<string, readonly string[]>): HTMLElement {
  const items = [...img.layers].reverse().map((l) => {
    const others = sharedWith(owners, img, l);
    return h(
      "li",
      { class: others.length > 0 ? "layer shared" : "layer", "data-layer": String(l.index) },
      h("span", { class: "size" }, l.size !== undefined ? humanSize(l.size) : "?"),
      h("code", { class: "instruction" }, l.createdBy || "(instruction not known)"),
      others.length > 0 && h("span", { class: "shared-with" }, `shared with ${others.join(", ")}`),
    );
  });
  return h("ol", { class: "layers", "aria-label": `Layers of ${img.names[0]}, top first` }, ...items);
}

function imageActions(img: ImageView, users: readonly ContainerRow[]): HTMLElement {
  const name = img.names[0] ?? img.id;
  if (users.length > 0) {
    const running = users.some((c) => isActiveState(c.State));
    const names = users.map(containerName);
    return h(
      "div",
      { class: "refusal", "data-refusal": name },
      h(
        "p",
        {},
        `${PROGRAM} rmi ${name} would be refused: ${plural(users.length, "container")} use it (${names.join(", ")}).`,
      ),
      h(
        "p",
        {},
        "To free it: ",
        h("code", {}, `${PROGRAM} rm ${running ? "-f " : ""}${names.join(" ")} && ${PROGRAM} rmi ${name}`),
      ),
    );
  }
  return h(
    "div",
    { class: "actions" },
    button("Remove image…", () => void confirmRmi(img), {
      label: `Remove image ${name}`,
      key: `rmi:${img.id}`,
    }),
  );
}

function containerCard(c: ContainerRow, changes: readonly ChangeRow[]): HTMLElement {
  const name = containerName(c);
  const active = isActiveState(c.State);
  const lost = lostPaths(
    changes,
    c.Mounts.map((m) => m.Destination),
  );
  const ports = portLinks(c.Ports);
  const headingId = `c-${c.Id.slice(0, 12)}`;
  const changed = [...changes].sort((a, b) => a.Path.localeCompare(b.Path));
  return h(
    "li",
    { class: `container state-${c.State}`, "data-container": name, "aria-labelledby": headingId },
    h("h4", { id: headingId }, name, " ", h("span", { class: "state", "data-state": c.State }, c.State)),
    h("p", { class: "status" }, c.Status, " · ", h("code", {}, c.Command)),
    h(
      "p",
      { class: "ports" },
      "Ports: ",
      ...(ports.length === 0
        ? ["none"]
        : ports.flatMap((p, i): Child[] => [
            i > 0 ? ", " : undefined,
            p.href
              ? h("a", { href: p.href, target: "_blank", rel: "noopener noreferrer" }, p.label)
              : p.label,
          ])),
    ),
    h(
      "div",
      { class: "writable" },
      h(
        "p",
        {},
        `Writable layer: ${humanSize(c.SizeRw ?? 0)}, ${plural(changed.length, "changed path")}`,
        lost.length > 0
          ? ` — ${PROGRAM} rm would lose ${plural(lost.length, "file")}`
          : " — nothing to lose on rm",
      ),
      changed.length > 0 &&
        h(
          "details",
          { "data-key": `changes:${c.Id}` },
          h("summary", {}, `Changed files of ${name}`),
          h(
            "ul",
            { class: "changes" },
            ...changed
              .slice(0, SHOWN_CHANGES)
              .map((ch) =>
                h(
                  "li",
                  {},
                  h("span", { class: "kind", title: "A added, C changed, D deleted" }, KIND[ch.Kind] ?? "?"),
                  " ",
                  h("code", {}, ch.Path),
                ),
              ),
            changed.length > SHOWN_CHANGES && h("li", {}, `and ${changed.length - SHOWN_CHANGES} more`),
          ),
        ),
    ),
    h("p", { class: "enter" }, "Enter it: ", h("code", {}, enterCommand(PROGRAM, c))),
    h(
      "div",
      { class: "actions", role: "group", "aria-label": `Actions on ${name}` },
      !active &&
        button(
          "Start",
          () => void act(`start ${name}`, "POST", `/containers/${c.Id}/start`, `Started ${name}`),
          { label: `Start ${name}`, key: `start:${c.Id}` },
        ),
      c.State === "running" &&
        button(
          "Stop",
          () => void act(`stop ${name}`, "POST", `/containers/${c.Id}/stop`, `Stopped ${name}`),
          { label: `Stop ${name}`, key: `stop:${c.Id}` },
        ),
      button(
        "Restart",
        () => void act(`restart ${name}`, "POST", `/containers/${c.Id}/restart`, `Restarted ${name}`),
        { label: `Restart ${name}`, key: `restart:${c.Id}` },
      ),
      button("Logs", () => void showLogs(c), { label: `Logs of ${name}`, key: `logs:${c.Id}` }),
      button("Remove…", () => void confirmRm(c), {
        label: `Remove ${name}`,
        key: `rm:${c.Id}`,
        kind: "danger",
      }),
    ),
  );
}

/*
 * Long on purpose: the page's layout in reading order — images with their containers, then the
 * containers whose image is gone, then volumes — rebuilt in one pass that keeps focus and open
 * sections; each card is a function of its own already.
 */
function render(s: State): void {
  const focused = document.activeElement?.getAttribute("data-key") ?? undefined;
  const open = new Set(
    [...root.querySelectorAll("details[open][data-key]")].map((d) => d.getAttribute("data-key") ?? ""),
  );
  const owners = layerOwners(s.images);
  const byImage = new Map<string, ContainerRow[]>();
  for (const c of s.containers) {
    const list = byImage.get(c.ImageID) ?? [];
    list.push(c);
    byImage.set(c.ImageID, list);
  }
  const known = new Set(s.images.map((i) => i.id));
  const orphans = s.containers.filter((c) => !known.has(c.ImageID));
  const card = (c: ContainerRow) => containerCard(c, s.changes.get(c.Id) ?? []);

  const images = s.images.map((img) => {
    const users = byImage.get(img.id) ?? [];
    const name = img.names[0] ?? img.id;
    const hid = `i-${img.id.replace(/^sha256:/, "").slice(0, 12)}`;
    return h(
      "article",
      { class: "image", "data-image": name, "aria-labelledby": hid },
      h(
        "div",
        { class: "blueprint" },
        h("h3", { id: hid }, img.names.join(", ")),
        h(
          "p",
          { class: "meta" },
          `${humanSize(img.size)} · ${plural(img.layers.length, "layer")} · ${img.id.replace(/^sha256:/, "").slice(0, 12)}`,
        ),
        layerList(img, owners),
        img.configSteps.length > 0 &&
          h(
            "details",
            { "data-key": `steps:${img.id}` },
            h("summary", {}, `${plural(img.configSteps.length, "step")} that made no layer`),
            h("ul", {}, ...img.configSteps.map((st) => h("li", {}, h("code", {}, st)))),
          ),
        imageActions(img, users),
      ),
      h(
        "section",
        { class: "buildings", "aria-label": `Containers from ${name}` },
        h(
          "h4",
          { class: "sub" },
          users.length > 0
            ? `${plural(users.length, "container")} from ${name}`
            : `No containers from ${name}`,
        ),
        h("ul", { class: "containers" }, ...users.map(card)),
      ),
    );
  });

  const mountedBy = new Map<string, string[]>();
  for (const c of s.containers)
    for (const m of c.Mounts)
      if (m.Type === "volume" && m.Name)
        mountedBy.set(m.Name, [...(mountedBy.get(m.Name) ?? []), containerName(c)]);
  const volumes = h(
    "table",
    { class: "volumes" },
    h("caption", {}, "Volumes outlive the containers that mount them"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Volume"),
        h("th", { scope: "col" }, "Kind"),
        h("th", { scope: "col" }, "Mounted by"),
      ),
    ),
    h(
      "tbody",
      {},
      ...s.volumes.map((v) =>
        h(
          "tr",
          { "data-volume": v.Name },
          h("th", { scope: "row" }, h("code", {}, v.Name.length > 24 ? `${v.Name.slice(0, 12)}…` : v.Name)),
          h("td", {}, v.Labels[ANONYMOUS] !== undefined ? "anonymous" : "named"),
          h(
            "td",
            {},
            (mountedBy.get(v.Name) ?? []).join(", ") || "no container (prune would remove it if anonymous)",
          ),
        ),
      ),
    ),
  );

  const sections: Child[] = [
    h(
      "section",
      { "aria-labelledby": "images-h" },
      h("h2", { id: "images-h" }, "Images and the containers made from them"),
      ...(images.length > 0 ? images : [h("p", {}, "No images.")]),
    ),
    orphans.length > 0 &&
      h(
        "section",
        { "aria-labelledby": "orphans-h" },
        h("h2", { id: "orphans-h" }, "Containers whose image is gone"),
        h("ul", { class: "containers" }, ...orphans.map(card)),
      ),
    h(
      "section",
      { "aria-labelledby": "volumes-h" },
      h("h2", { id: "volumes-h" }, "Volumes"),
      s.volumes.length > 0 ? volumes : h("p", {}, "No volumes."),
    ),
  ];
  root.replaceChildren(...sections.filter((x): x is Node | string => x !== undefined && x !== false));
  for (const d of root.querySelectorAll("details[data-key]")) {
    if (open.has(d.getAttribute("data-key") ?? "")) d.setAttribute("open", "");
  }
  if (focused) {
    const again = [...root.querySelectorAll<HTMLElement>("[data-key]")].find(
      (e) => e.getAttribute("data-key") === focused,
    );
    again?.focus();
  }
  root.setAttribute("aria-busy", "false");
}

// ---- refreshing ----

let loading = false;
let again = false;
let timer: ReturnType<typeof setTimeout> | undefined;

async function refresh(): Promise<void> {
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    do {
      again = false;
      state = await load();
      render(state);
    } while (again);
  } catch (err) {
    showError(`Could not read the engine: ${errorMessage(err)}`);
  } finally {
    loading = false;
  }
}

function scheduleRefresh(): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    void refresh();
  }, 100);
}

function describeEvent(e: EventRow): string | undefined {
  const who = e.name ?? e.id.replace(/^sha256:/, "").slice(0, 12);
  if (e.Type === "container" && /^(exec_|attach|resize|top|archive-path|extract-to-dir)/.test(e.Action))
    return undefined;
  return `${e.Type} ${who}: ${e.Action}`;
}

/** Follows the event journal; every event reads the engine again. Reconnects after a failure. */
async function followEvents(): Promise<void> {
  let backoff = 500;
  for (;;) {
    const ctl = new AbortController();
    try {
      const since = Math.floor(Date.now() / 1000);
      connection.textContent = "Live: following the engine's events";
      // Whatever changed while the stream was down is read now.
      void refresh();
      await streamLines(`/events?since=${since}`, ctl.signal, (line) => {
        backoff = 500;
        try {
          const e = decodeEvent(JSON.parse(line));
          const text = describeEvent(e);
          if (text) announce(text);
        } catch {
          // A line that is not an event (an error line) still means: read again.
        }
        scheduleRefresh();
      });
    } catch {
      // fall through to reconnect
    }
    connection.textContent = "Not live: reconnecting to the engine…";
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 10_000);
  }
}

// ---- actions ----

async function act(what: string, method: "POST" | "DELETE", path: string, done: string): Promise<void> {
  showError(undefined);
  announce(`${what}…`);
  try {
    await send(method, path);
    announce(done);
  } catch (err) {
    showError(`${what} failed: ${errorMessage(err)}`);
    announce(`${what} failed`);
  }
  scheduleRefresh();
}

/** Opens the confirmation dialog; resolves true when the user confirms. */
function confirmDialog(opts: {
  title: string;
  body: Child[];
  confirm: string;
  danger?: boolean;
  options?: readonly { id: string; label: string; checked?: boolean }[];
}): Promise<{ ok: boolean; checked: Set<string> }> {
  return new Promise((resolve) => {
    const titleId = "dialog-title";
    const boxes = (opts.options ?? []).map((o) => {
      const input = h("input", { type: "checkbox", id: `opt-${o.id}`, checked: o.checked });
      return { id: o.id, input, el: h("p", {}, input, " ", h("label", { for: `opt-${o.id}` }, o.label)) };
    });
    const finish = (ok: boolean) => {
      dialog.close();
      resolve({ ok, checked: new Set(boxes.filter((b) => b.input.checked).map((b) => b.id)) });
    };
    const cancel = button("Cancel", () => finish(false));
    const confirm = button(opts.confirm, () => finish(true), { kind: opts.danger ? "danger" : undefined });
    dialog.setAttribute("aria-labelledby", titleId);
    dialog.replaceChildren(
      h("h2", { id: titleId }, opts.title),
      h("div", { class: "dialog-body" }, ...opts.body),
      ...boxes.map((b) => b.el),
      h("div", { class: "actions" }, cancel, confirm),
    );
    dialog.onclose = () => resolve({ ok: false, checked: new Set() });
    dialog.showModal();
    cancel.focus();
  });
}

function lossLines(loss: RemovalLoss | undefined, volumesRemoved: boolean): Child[] {
  if (!loss) return [h("p", {}, "What it would lose could not be measured (it may be changing or gone).")];
  const out: Child[] = [];
  if (loss.paths.length > 0) {
    out.push(
      h(
        "div",
        { class: "warning", role: "alert", "data-warning": "writable-layer" },
        h(
          "p",
          {},
          `Its writable layer is lost: ${plural(loss.paths.length, "changed file")} (${humanSize(loss.bytes)}).`,
        ),
        h("ul", {}, ...loss.paths.slice(0, 20).map((p) => h("li", {}, h("code", {}, p)))),
        loss.paths.length > 20 && h("p", {}, `and ${loss.paths.length - 20} more`),
        h(
          "p",
          {},
          "To keep them: put the path on a volume, save the container as an image (",
          h("code", {}, `${PROGRAM} commit ${loss.name} IMAGE`),
          "), or copy files out first (",
          h("code", {}, `${PROGRAM} cp ${loss.name}:${loss.paths[0]} .`),
          ").",
        ),
      ),
    );
  } else out.push(h("p", {}, "Its writable layer holds no changed files: nothing of it is lost."));
  if (loss.anonymousVolumes.length > 0 && !volumesRemoved) {
    out.push(
      h(
        "p",
        {},
        `Its anonymous ${loss.anonymousVolumes.length === 1 ? "volume stays" : "volumes stay"} unless removed too: `,
        loss.anonymousVolumes.map((v) => `${v.name.slice(0, 12)} (${v.destination})`).join(", "),
      ),
    );
  }
  return out;
}

async function confirmRm(c: ContainerRow): Promise<void> {
  const name = containerName(c);
  announce(`Measuring what removing ${name} would lose…`);
  const loss = await measureRemoval(removalReader, c.Id);
  const active = isActiveState(c.State);
  const anon = loss?.anonymousVolumes ?? [];
  const answer = await confirmDialog({
    title: `Remove container ${name}?`,
    body: [
      active && h("p", {}, `${name} is ${c.State}: it is stopped and removed (as ${PROGRAM} rm -f).`),
      ...lossLines(loss, false),
    ],
    options:
      anon.length > 0
        ? [
            {
              id: "volumes",
              label: `Also remove its anonymous ${anon.length === 1 ? "volume" : "volumes"} (rm -v)`,
            },
          ]
        : [],
    confirm: active ? `Stop and remove ${name}` : `Remove ${name}`,
    danger: true,
  });
  if (!answer.ok) {
    announce(`Kept ${name}`);
    return;
  }
  const q = new URLSearchParams();
  if (active) q.set("force", "1");
  if (answer.checked.has("volumes")) q.set("v", "1");
  await act(`remove ${name}`, "DELETE", `/containers/${c.Id}?${q}`, `Removed ${name}`);
}

async function confirmRmi(img: ImageView): Promise<void> {
  const name = img.names[0] ?? img.id;
  // Read again at the moment of asking: a container made since the last refresh holds it too.
  const users = await imageUsers(
    {
      imageInspect: async (ref) => ({ Id: (await factsOf(ref)).details.Id }),
      containerList: () => listContainers(),
    },
    img.id,
  ).catch(() => []);
  if (users.length > 0) {
    showError(`${PROGRAM} rmi ${name} is refused: ${users.map(containerName).join(", ")} use it.`);
    scheduleRefresh();
    return;
  }
  const answer = await confirmDialog({
    title: `Remove image ${name}?`,
    body: [
      h(
        "p",
        {},
        `No container uses it. Its ${plural(img.layers.length, "layer")} go unless another image shares them.`,
      ),
      img.tags.length > 1 && h("p", {}, `Every tag is removed: ${img.tags.join(", ")}.`),
    ],
    confirm: `Remove ${name}`,
    danger: true,
  });
  if (!answer.ok) return;
  // As `rmi TAG…` of every tag: the last one deletes the image.
  const refs = img.tags.length > 0 ? img.tags : [img.id];
  for (const ref of refs)
    await act(`rmi ${ref}`, "DELETE", `/images/${encodeURIComponent(ref)}`, `Removed ${ref}`);
}

async function confirmPrune(): Promise<void> {
  announce("Measuring what pruning would remove…");
  const stopped = await measureStopped({ ...removalReader, containerList: () => listContainers() });
  const losing = [...stopped.values()].filter((l) => l.paths.length > 0);
  const answer = await confirmDialog({
    title: "Prune?",
    body: [
      h("p", {}, "Like ", h("code", {}, `${PROGRAM} system prune`), ": choose what goes."),
      stopped.size > 0
        ? h(
            "p",
            {},
            `${plural(stopped.size, "stopped container")}: ${[...stopped.values()].map((l) => l.name).join(", ")}.`,
          )
        : h("p", {}, "No stopped containers."),
      losing.length > 0 &&
        h(
          "div",
          { class: "warning", role: "alert", "data-warning": "prune" },
          h("p", {}, "Their writable layers are lost:"),
          h(
            "ul",
            {},
            ...losing.map((l) =>
              h("li", {}, `${l.name}: ${plural(l.paths.length, "changed file")} (${humanSize(l.bytes)})`),
            ),
          ),
        ),
    ],
    options: [
      { id: "containers", label: "All stopped containers", checked: true },
      { id: "images", label: "Dangling images (untagged, unused)", checked: true },
      { id: "networks", label: "Unused networks", checked: true },
      { id: "volumes", label: "Unused anonymous volumes" },
    ],
    confirm: "Prune",
    danger: true,
  });
  if (!answer.ok) return;
  showError(undefined);
  const done: string[] = [];
  try {
    if (answer.checked.has("containers")) {
      const r = decodePrune(await send("POST", "/containers/prune"), "ContainersDeleted");
      done.push(plural(r.deleted.length, "container"));
    }
    if (answer.checked.has("networks")) {
      const r = decodePrune(await send("POST", "/networks/prune"), "NetworksDeleted");
      done.push(plural(r.deleted.length, "network"));
    }
    if (answer.checked.has("volumes")) {
      const r = decodePrune(await send("POST", "/volumes/prune"), "VolumesDeleted");
      done.push(plural(r.deleted.length, "volume"));
    }
    if (answer.checked.has("images")) {
      const r = decodePrune(await send("POST", "/images/prune"), "ImagesDeleted");
      done.push(`${plural(r.deleted.length, "image record")} (${humanSize(r.SpaceReclaimed)})`);
    }
    announce(`Pruned: ${done.join(", ") || "nothing chosen"}`);
  } catch (err) {
    showError(`Prune failed: ${errorMessage(err)}`);
  }
  scheduleRefresh();
}

async function showLogs(c: ContainerRow): Promise<void> {
  const name = containerName(c);
  const ctl = new AbortController();
  const pre = h("pre", { class: "logs", tabindex: "0", "aria-label": `Log of ${name}` });
  const close = button("Close", () => dialog.close());
  dialog.setAttribute("aria-labelledby", "dialog-title");
  dialog.replaceChildren(
    h("h2", { id: "dialog-title" }, `Logs of ${name} (following)`),
    pre,
    h("div", { class: "actions" }, close),
  );
  dialog.onclose = () => ctl.abort();
  dialog.showModal();
  close.focus();
  try {
    const { Tty: tty } = decodeContainerDetails(
      await getJson(`/containers/${encodeURIComponent(c.Id)}/json`),
    );
    await followLogs(c.Id, tty, ctl.signal, (text, stream) => {
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(stream === "stderr" ? h("span", { class: "stderr" }, text) : text);
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    });
    if (!ctl.signal.aborted)
      pre.append(h("span", { class: "end" }, "\n(the log ended: the container stopped)"));
  } catch (err) {
    if (!ctl.signal.aborted) pre.append(h("span", { class: "stderr" }, `\n${errorMessage(err)}`));
  }
}

document.getElementById("prune")?.addEventListener("click", () => void confirmPrune());
void followEvents();
