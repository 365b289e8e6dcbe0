import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import type { Instruction } from "../dockerfile/ast.js";
import { parseDockerfile } from "../dockerfile/parse.js";
import { type DispatchContext, dispatch, initialState, type StageState } from "./dispatch.js";
import { goDuration, goQuoteList } from "./go-format.js";
import { planBuild, stepPrefix, stepTotal } from "./plan.js";

function parse(text: string) {
  return parseDockerfile(text, { file: "Dockerfile" });
}

function ctx(buildArgs: Record<string, string> = {}, metaArgs: Record<string, string> = {}): DispatchContext {
  return {
    file: "Dockerfile",
    escape: "\\",
    buildArgs: new Map(Object.entries(buildArgs)),
    metaArgs: new Map(Object.entries(metaArgs)),
  };
}

/** Dispatches every instruction after FROM; returns the state and the results. */
function run(text: string, c: DispatchContext = ctx(), base?: StageState) {
  const df = parse(`FROM busybox\n${text}`);
  const state = base ?? initialState({ config: { Env: ["PATH=/bin"], Cmd: ["sh"] } });
  const out = df.instructions.slice(1).map((i: Instruction) => dispatch(state, i, c));
  return { state, out };
}

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, "InvalidArgument"), String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

describe("planBuild", () => {
  const multi = `ARG BASE=busybox
FROM $BASE AS builder
RUN echo build
FROM busybox AS unused
RUN echo never
FROM \${BASE}
COPY --from=builder /out /out
`;

  test("stages, names, labels and the meta args in FROM", () => {
    const plan = planBuild(parse(multi), { buildArgs: new Map() });
    assert.deepEqual(
      plan.stages.map((s) => [s.name, s.label, s.base]),
      [
        ["builder", "builder", "busybox"],
        ["unused", "unused", "busybox"],
        [undefined, "stage-2", "busybox"],
      ],
    );
    assert.equal(plan.target, 2);
    assert.deepEqual(plan.needed, [0, 2], "the unused stage is skipped");
    assert.deepEqual(plan.stages[2]?.uses, [0]);
  });

  test("--build-arg overrides a meta arg; --target picks a stage", () => {
    const plan = planBuild(parse(multi), { buildArgs: new Map([["BASE", "alpine"]]), target: "Builder" });
    assert.equal(plan.stages[0]?.base, "alpine");
    assert.equal(plan.target, 0);
    assert.deepEqual(plan.needed, [0]);
  });

  test("a single stage has no label; FROM another stage is its base", () => {
    assert.equal(planBuild(parse("FROM busybox\nRUN true\n"), { buildArgs: new Map() }).stages[0]?.label, "");
    const plan = planBuild(parse("FROM busybox AS a\nFROM a\n"), { buildArgs: new Map() });
    assert.equal(plan.stages[1]?.baseStage, 0);
    assert.deepEqual(plan.needed, [0, 1]);
  });

  test("flags berth cannot honour are refused before anything is built, not ignored", () => {
    const plan = (text: string) => planBuild(parse(text), { buildArgs: new Map() });
    rejects(
      () => plan("FROM busybox\nRUN --security=insecure true\n"),
      /^Dockerfile:2: RUN --security=insecure is not supported/,
    );
    rejects(
      () => plan("FROM busybox\nCOPY --parents a/b /dst/\n"),
      /^Dockerfile:2: COPY --parents is not supported$/,
    );
    rejects(() => plan("FROM busybox\nCOPY --parents=true a /dst/\n"), /COPY --parents is not supported/);
    assert.equal(plan("FROM busybox\nRUN --security=sandbox true\n").stages.length, 1);
    assert.equal(plan("FROM busybox\nCOPY --parents=false a /dst/\n").stages.length, 1);
  });

  test("errors name the file and line", () => {
    rejects(
      () => planBuild(parse("FROM busybox\nCOPY --frm=x a b\n"), { buildArgs: new Map() }),
      /^Dockerfile:2: unknown flag: --frm/,
    );
    rejects(() => planBuild(parse("RUN true\n"), { buildArgs: new Map() }), /^Dockerfile:1: no build stage/);
    rejects(
      () => planBuild(parse("FROM busybox\nCOPY --from=1 a b\nFROM busybox\n"), { buildArgs: new Map() }),
      /^Dockerfile:2: .*current or future/,
    );
    rejects(
      () => planBuild(parse("FROM a b\n"), { buildArgs: new Map() }),
      /^Dockerfile:1: FROM requires either one or three arguments/,
    );
    rejects(
      () => planBuild(parse("FROM busybox\n"), { buildArgs: new Map(), target: "nope" }),
      /target stage "nope" could not be found/,
    );
    rejects(
      () => planBuild(parse("FROM busybox AS x\nFROM busybox AS x\n"), { buildArgs: new Map() }),
      /^Dockerfile:2: duplicate stage name/,
    );
  });

  test("step totals and BuildKit's padded prefixes", () => {
    const plan = planBuild(parse("FROM busybox\nWORKDIR /a\nENV A=b\nCOPY . .\nRUN x\nCMD x\n"), {
      buildArgs: new Map(),
    });
    assert.equal(stepTotal(plan.stages[0] as never), 4);
    assert.equal(stepPrefix("", 2, 5), "[2/5] ");
    assert.equal(stepPrefix("builder", 3, 12), "[builder  3/12] ");
  });
});

describe("dispatch: image config and history as BuildKit writes them", () => {
  test("metadata instructions", () => {
    const { state, out } = run(`WORKDIR /app
WORKDIR sub
ENV A=1 B="two words"
LABEL version=1.0 "com.x"=y
EXPOSE 3000 53/udp
VOLUME ["/data"]
USER node
STOPSIGNAL SIGINT
MAINTAINER me@example.com
CMD ["npm", "start"]
`);
    assert.deepEqual(
      out.map((d) => d.history?.created_by),
      [
        "WORKDIR /app",
        "WORKDIR /app/sub",
        "ENV A=1 B=two words",
        "LABEL version=1.0 com.x=y",
        "EXPOSE [3000/tcp 53/udp]",
        "VOLUME [/data]",
        "USER node",
        "STOPSIGNAL SIGINT",
        "MAINTAINER me@example.com",
        'CMD ["npm" "start"]',
      ],
    );
    assert.deepEqual(
      out.map((d) => d.history?.empty_layer),
      [false, false, true, true, true, true, true, true, true, true],
    );
    assert.equal(out[0]?.action.kind, "workdir");
    assert.deepEqual(state.config.Env, ["PATH=/bin", "A=1", "B=two words"]);
    assert.deepEqual(state.config.Labels, { version: "1.0", "com.x": "y" });
    assert.deepEqual(state.config.ExposedPorts, { "3000/tcp": {}, "53/udp": {} });
    assert.equal(state.config.WorkingDir, "/app/sub");
    assert.equal(state.config.User, "node");
    assert.equal(state.author, "me@example.com");
    assert.deepEqual(state.config.Cmd, ["npm", "start"]);
  });

  test("WORKDIR and USER take the rest of the line as one word", () => {
    const { state } = run('ARG D="my dir"\nWORKDIR /srv/$D\nUSER app user\n');
    assert.equal(state.config.WorkingDir, "/srv/my dir");
    assert.equal(state.config.User, "app user");
  });

  test("ENTRYPOINT resets the base image's CMD, not this stage's", () => {
    const a = run("ENTRYPOINT node server.js\n");
    assert.equal(a.state.config.Cmd, undefined);
    assert.deepEqual(a.state.config.Entrypoint, ["/bin/sh", "-c", "node server.js"]);
    assert.equal(a.out[0]?.history?.created_by, 'ENTRYPOINT ["/bin/sh" "-c" "node server.js"]');
    const b = run('CMD ["x"]\nENTRYPOINT ["y"]\n');
    assert.deepEqual(b.state.config.Cmd, ["x"]);
  });

  test("SHELL changes how RUN and CMD run their shell form", () => {
    const { out, state } = run('SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN echo hi\nCMD echo x\n');
    assert.equal(out[0]?.history?.created_by, "SHELL [/bin/bash -o pipefail -c]");
    const r = out[1]?.action;
    assert.equal(r?.kind, "run");
    if (r?.kind === "run") assert.deepEqual(r.argv, ["/bin/bash", "-o", "pipefail", "-c", "echo hi"]);
    assert.deepEqual(state.config.Cmd, ["/bin/bash", "-o", "pipefail", "-c", "echo x"]);
  });

  test("HEALTHCHECK with flags, and NONE", () => {
    const { state, out } = run("HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost || exit 1\n");
    assert.deepEqual(state.config.Healthcheck, {
      Test: ["CMD-SHELL", "wget -q localhost || exit 1"],
      Interval: 30e9,
      Retries: 3,
    });
    assert.equal(
      out[0]?.history?.created_by,
      "HEALTHCHECK {Test:[CMD-SHELL wget -q localhost || exit 1] Interval:30s Timeout:0s StartPeriod:0s StartInterval:0s Retries:3}",
    );
    assert.deepEqual(run("HEALTHCHECK NONE\n").state.config.Healthcheck, { Test: ["NONE"] });
    rejects(() => run("HEALTHCHECK --interval=1x CMD x\n"), /^Dockerfile:2: time: .*duration/);
  });

  test("ONBUILD is stored in the config and adds no history row", () => {
    const { state, out } = run("ONBUILD RUN echo child\n");
    assert.deepEqual(state.config.OnBuild, ["RUN echo child"]);
    assert.equal(out[0]?.history, undefined);
    rejects(() => run("ONBUILD ONBUILD RUN x\n"), /Chaining ONBUILD/);
  });

  test("a base image's ONBUILD triggers do not carry over", () => {
    assert.equal(initialState({ config: { OnBuild: ["RUN x"] } }).config.OnBuild, undefined);
    assert.deepEqual(initialState(undefined).config, {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      WorkingDir: "/",
    });
  });

  test("errors carry the line", () => {
    rejects(() => run("STOPSIGNAL SIGNOPE\n"), /^Dockerfile:2: Invalid signal: SIGNOPE$/);
    rejects(() => run("EXPOSE 99999\n"), /^Dockerfile:2: invalid range specified for port/);
    rejects(() => run("COPY --chmod=999 a b\n"), /^Dockerfile:2: invalid chmod parameter/);
    rejects(() => run("RUN --network=bridge x\n"), /^Dockerfile:2: unsupported network mode/);
    rejects(() => run("COPY onlyone\n"), /^Dockerfile:2: COPY requires at least two arguments/);
  });
});

describe("dispatch: build args", () => {
  test("ARG declares; --build-arg wins over the default; RUN history shows what is in scope", () => {
    const { out } = run("ARG VERSION=1\nARG EMPTY\nRUN echo $VERSION\n", ctx({ VERSION: "2" }));
    assert.equal(out[0]?.history?.created_by, "ARG VERSION=2");
    assert.equal(out[1]?.history?.created_by, "ARG EMPTY");
    assert.equal(out[2]?.history?.created_by, "RUN |2 VERSION=2 EMPTY= /bin/sh -c echo $VERSION # buildkit");
    const r = out[2]?.action;
    if (r?.kind === "run") assert.deepEqual(r.env, ["PATH=/bin", "VERSION=2"]);
  });

  test("an ARG without value inherits the meta arg; undeclared build args are not visible", () => {
    const { out } = run("ARG BASE\nCOPY $BASE $OTHER/ /dst/\n", ctx({ OTHER: "x" }, { BASE: "busybox" }));
    assert.equal(out[0]?.history?.created_by, "ARG BASE=busybox");
    const c = out[1]?.action;
    assert.equal(c?.kind, "copy");
    if (c?.kind === "copy") assert.deepEqual(c.sources, ["busybox", "/"]);
  });

  test("ENV wins over an ARG of the same name", () => {
    const { out } = run("ARG V=arg\nENV V=env\nWORKDIR /$V\n");
    assert.equal(out[2]?.history?.created_by, "WORKDIR /env");
  });

  test("proxy args reach RUN's environment without ARG and stay out of history", () => {
    const { out } = run("RUN wget x\n", ctx({ HTTP_PROXY: "http://127.0.0.1:3128", OTHER: "no" }));
    assert.equal(out[0]?.history?.created_by, "RUN /bin/sh -c wget x # buildkit");
    const r = out[0]?.action;
    if (r?.kind === "run") assert.deepEqual(r.env, ["PATH=/bin", "HTTP_PROXY=http://127.0.0.1:3128"]);
  });
});

describe("dispatch: COPY, ADD and RUN forms", () => {
  test("destinations are WORKDIR-relative; a trailing slash is kept; flags in history", () => {
    const { out } = run(
      "WORKDIR /app\nCOPY --chown=node:node --chmod=755 package*.json ./\nCOPY . .\nADD a.tar /opt\n",
    );
    const c = out[1]?.action;
    if (c?.kind !== "copy") throw new Error("not a copy");
    assert.equal(c.dest, "/app/");
    assert.equal(c.chown, "node:node");
    assert.equal(c.chmod, 0o755);
    assert.equal(
      out[1]?.history?.created_by,
      "COPY --chown=node:node --chmod=755 package*.json ./ # buildkit",
    );
    assert.equal(out[2]?.history?.created_by, "COPY . . # buildkit");
    const a = out[3]?.action;
    if (a?.kind === "copy") {
      assert.equal(a.add, true);
      assert.equal(a.dest, "/opt");
    }
  });

  test("COPY --from keeps the stage name out of history, as BuildKit", () => {
    const { out } = run("COPY --from=builder /app/node_modules ./node_modules\n");
    assert.equal(out[0]?.history?.created_by, "COPY /app/node_modules ./node_modules # buildkit");
    const c = out[0]?.action;
    if (c?.kind === "copy") assert.equal(c.from, "builder");
  });

  test("exec-form RUN, and RUN --mount=type=cache", () => {
    const { out } = run('RUN ["echo", "a b"]\nRUN --mount=type=cache,target=/root/.npm npm ci\n');
    assert.equal(out[0]?.history?.created_by, "RUN echo a b # buildkit");
    const m = out[1]?.action;
    if (m?.kind === "run") assert.deepEqual(m.cacheMounts, ["/root/.npm"]);
    rejects(() => run("RUN --mount=type=secret,id=x cat\n"), /only type=cache/);
  });
});

test("Go formatting", () => {
  assert.equal(goQuoteList(["npm", "start"]), '["npm" "start"]');
  assert.equal(goQuoteList(['a"b']), '["a\\"b"]');
  assert.equal(goDuration(90e9), "1m30s");
  assert.equal(goDuration(1.5e9), "1.5s");
  assert.equal(goDuration(500e6), "500ms");
  assert.equal(goDuration(3600e9), "1h0m0s");
});

describe("bounded evaluation of ARG/ENV chains", () => {
  test("a doubling ARG chain fails at its line, before memory grows", () => {
    let text = "ARG A0=0123456789abcdef\n";
    for (let i = 1; i <= 40; i++) text += `ARG A${i}=$A${i - 1}$A${i - 1}\n`;
    rejects(
      () => run(text),
      /^Dockerfile:\d+: ARG, ENV and LABEL values total \d+ characters, more than the limit/,
    );
    rejects(
      () => run(text.replace(/ARG/g, "ENV")),
      /^Dockerfile:\d+: (ARG, ENV and LABEL values total|.*longer than the limit)/,
    );
  });

  test("a doubling meta ARG chain before FROM fails at its line", () => {
    let text = "ARG A0=0123456789abcdef\n";
    for (let i = 1; i <= 40; i++) text += `ARG A${i}=$A${i - 1}$A${i - 1}\n`;
    rejects(() => planBuild(parse(`${text}FROM busybox\n`), { buildArgs: new Map() }), /^Dockerfile:\d+: /);
  });

  test("deep nesting in an instruction names its line", () => {
    const deep = `${"${A:-".repeat(5000)}x${"}".repeat(5000)}`;
    rejects(() => run(`ENV X=1\nWORKDIR ${deep}\n`), /^Dockerfile:3: .*nested more than 64 levels/);
  });
});
