/**
 * applyChanges against Docker's `import/commit --change` semantics: moby's BuildFromConfig runs
 * the Dockerfile parser and the classic builder's dispatchers (builder/dockerfile/dispatchers.go)
 * over the image config, with the shell lexer of buildkit's frontend/dockerfile/shell for words.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertInvalid } from "../base/test-support.js";
import type { ContainerConfig } from "../oci/image.js";
import { applyChanges } from "./changes.js";

const apply = (changes: string[], config: ContainerConfig = {}) => applyChanges(config, changes);

describe("applyChanges: CMD and ENTRYPOINT", () => {
  test("CMD exec form is taken as is; shell form runs through /bin/sh -c with the text unchanged", () => {
    assert.deepEqual(apply([`CMD ["/bin/echo", "hi there"]`]).Cmd, ["/bin/echo", "hi there"]);
    assert.deepEqual(apply([`CMD echo "hi"  there`]).Cmd, ["/bin/sh", "-c", `echo "hi"  there`]);
  });

  test("CMD that is not JSON falls back to the shell form; a JSON array of non-strings is refused", () => {
    assert.deepEqual(apply(["CMD [oops"]).Cmd, ["/bin/sh", "-c", "[oops"]);
    // moby's parser (parseMaybeJSON): valid JSON that is not an array of strings is an error.
    assertInvalid(
      () => apply(["CMD [1, 2]"]),
      "when using JSON array syntax, arrays must be comprised of strings only",
    );
  });

  test("leading -- words are the instruction's flags, as in a Dockerfile (CMD has none)", () => {
    // moby's BuildFromConfig parses each change with instructions.ParseCommand: BFlags.Parse.
    assertInvalid(() => apply(["CMD --port 80"]), "unknown flag: --port");
    assertInvalid(() => apply(["ENTRYPOINT --x /app"]), "unknown flag: --x");
    assert.deepEqual(apply(["CMD -- --port 80"]).Cmd, ["/bin/sh", "-c", "--port 80"]);
  });

  test("instruction names are case-insensitive", () => {
    assert.deepEqual(apply(["cmd echo hi"]).Cmd, ["/bin/sh", "-c", "echo hi"]);
    assert.equal(apply(["user nobody"]).User, "nobody");
  });

  test("ENTRYPOINT exec form sets Entrypoint", () => {
    assert.deepEqual(apply([`ENTRYPOINT ["/app", "--serve"]`]).Entrypoint, ["/app", "--serve"]);
  });

  test("ENTRYPOINT shell form wraps in /bin/sh -c and clears an inherited Cmd", () => {
    const out = apply(["ENTRYPOINT exec /app"], { Cmd: ["--help"] });
    assert.deepEqual(out.Entrypoint, ["/bin/sh", "-c", "exec /app"]);
    assert.equal(out.Cmd, undefined);
  });

  test("ENTRYPOINT exec form also clears an inherited Cmd", {}, () => {
    const out = apply([`ENTRYPOINT ["/app"]`], { Cmd: ["/bin/sh"] });
    assert.equal(out.Cmd, undefined);
  });

  test("a CMD earlier in the same changes survives a later ENTRYPOINT", {}, () => {
    const out = apply(["CMD serve 80", "ENTRYPOINT /app"]);
    assert.deepEqual(out.Cmd, ["/bin/sh", "-c", "serve 80"]);
    assert.deepEqual(out.Entrypoint, ["/bin/sh", "-c", "/app"]);
  });
});

describe("applyChanges: ENV", () => {
  test("key=value form with quotes and escapes, several per instruction", () => {
    const out = apply([`ENV A=1 B="two words" C=a\\ b D='x $y' E="say \\"hi\\"" F=`]);
    assert.deepEqual(out.Env, ["A=1", "B=two words", "C=a b", "D=x $y", 'E=say "hi"', "F="]);
  });

  test("legacy form: ENV KEY value with spaces", () => {
    assert.deepEqual(apply(["ENV GREETING hello world"]).Env, ["GREETING=hello world"]);
    assert.deepEqual(apply([`ENV GREETING "hello" 'world'`]).Env, ["GREETING=hello world"]);
  });

  test("replaces an existing variable in place and appends new ones", () => {
    const out = apply(["ENV A=new C=3"], { Env: ["A=old", "B=2"] });
    assert.deepEqual(out.Env, ["A=new", "B=2", "C=3"]);
  });

  test("a variable whose name is a prefix of another is not confused with it", () => {
    const out = apply(["ENV PATH=/x"], { Env: ["PATHEXT=.sh", "PATH=/bin"] });
    assert.deepEqual(out.Env, ["PATHEXT=.sh", "PATH=/x"]);
  });

  test("errors: no argument, no value, a blank name, an unterminated quote", () => {
    assertInvalid(() => apply(["ENV"]));
    assertInvalid(() => apply(["ENV FOO"]));
    assertInvalid(() => apply(["ENV =x"]), "ENV names can not be blank");
    assertInvalid(
      () => apply([`ENV A="x`]),
      `failed to process "\\"x": unexpected end of statement while looking for matching double-quote`,
    );
    assertInvalid(
      () => apply([`ENV A='x`]),
      `failed to process "'x": unexpected end of statement while looking for matching single-quote`,
    );
  });

  test("ENV with a name and no value says what Docker says", {}, () => {
    assertInvalid(() => apply(["ENV FOO"]), "ENV must have two arguments");
  });

  test("the legacy form keeps the value's inner whitespace", {}, () => {
    assert.deepEqual(apply(["ENV A x   y"]).Env, ["A=x   y"]);
  });

  test("values expand $VAR and its braced form from the config's environment", {}, () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile variable syntax, not a JS template
    const out = apply(["ENV PATH=/opt/bin:$PATH HOME=${PATH}x"], { Env: ["PATH=/usr/bin"] });
    assert.deepEqual(out.Env, ["PATH=/opt/bin:/usr/bin", "HOME=/usr/binx"]);
  });

  test("a word without '=' after key=value pairs is a syntax error with Docker's wording", {}, () => {
    assertInvalid(
      () => apply(["ENV A=1 B"]),
      `Syntax error - can't find = in "B". Must be of the form: name=value`,
    );
  });
});

describe("applyChanges: LABEL, USER, STOPSIGNAL", () => {
  test("LABEL key=value pairs with quotes, merged over existing labels", () => {
    const out = apply([`LABEL a=b "c d"=e version="1.0 beta"`], { Labels: { a: "old", keep: "me" } });
    assert.deepEqual(out.Labels, { a: "b", keep: "me", "c d": "e", version: "1.0 beta" });
  });

  test("LABEL legacy form and errors", () => {
    assert.deepEqual(apply(["LABEL maintainer someone else"]).Labels, { maintainer: "someone else" });
    assertInvalid(() => apply(["LABEL"]));
    assertInvalid(() => apply(["LABEL =x"]), "LABEL names can not be blank");
  });

  test("USER and STOPSIGNAL take their argument; both need one", () => {
    assert.equal(apply(["USER app:app"]).User, "app:app");
    assert.equal(apply(["STOPSIGNAL SIGQUIT"]).StopSignal, "SIGQUIT");
    assert.equal(apply(["STOPSIGNAL 9"]).StopSignal, "9");
    assertInvalid(() => apply(["USER"]), "USER requires exactly one argument");
    assertInvalid(() => apply(["STOPSIGNAL"]), "STOPSIGNAL requires exactly one argument");
  });

  test("USER and WORKDIR take the rest of the line as one word, expanded, as Docker does", () => {
    assert.equal(apply(["USER $U", "USER x"], { Env: ["U=app"] }).User, "x");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable
    assert.equal(apply(["USER ${U}:grp"], { Env: ["U=app"] }).User, "app:grp");
    assert.equal(apply([`WORKDIR /my dir`]).WorkingDir, "/my dir");
    assert.equal(apply([`WORKDIR "/quoted dir"`]).WorkingDir, "/quoted dir");
  });

  test("STOPSIGNAL refuses a name that is not a signal", {}, () => {
    assertInvalid(() => apply(["STOPSIGNAL NOPE"]));
  });
});

describe("applyChanges: EXPOSE", () => {
  test("ports default to tcp, protocols are lower-cased, existing ports kept", () => {
    const out = apply(["EXPOSE 80 53/udp 443/TCP 9/sctp"], { ExposedPorts: { "22/tcp": {} } });
    assert.deepEqual(out.ExposedPorts, {
      "22/tcp": {},
      "80/tcp": {},
      "53/udp": {},
      "443/tcp": {},
      "9/sctp": {},
    });
  });

  test("a port that is not a number is refused", () => {
    assertInvalid(() => apply(["EXPOSE abc"]), "invalid containerPort: abc");
    assertInvalid(() => apply(["EXPOSE 80/xyz"]));
  });

  test("a port range exposes each port of the range", {}, () => {
    assert.deepEqual(apply(["EXPOSE 7000-7002/udp"]).ExposedPorts, {
      "7000/udp": {},
      "7001/udp": {},
      "7002/udp": {},
    });
  });
});

describe("applyChanges: VOLUME and WORKDIR", () => {
  test("VOLUME JSON and word forms add to existing volumes", () => {
    assert.deepEqual(apply([`VOLUME ["/data", "/my logs"]`], { Volumes: { "/old": {} } }).Volumes, {
      "/old": {},
      "/data": {},
      "/my logs": {},
    });
    assert.deepEqual(apply(["VOLUME /a /b"]).Volumes, { "/a": {}, "/b": {} });
  });

  test("VOLUME with an empty string is refused", () => {
    assertInvalid(() => apply([`VOLUME [""]`]), "VOLUME specified can not be an empty string");
    assertInvalid(() => apply([`VOLUME /a ""`]), "VOLUME specified can not be an empty string");
  });

  test("WORKDIR is relative to the previous WORKDIR (or /) and cleaned", () => {
    assert.equal(apply(["WORKDIR app"]).WorkingDir, "/app");
    assert.equal(apply(["WORKDIR app", "WORKDIR sub"]).WorkingDir, "/app/sub");
    assert.equal(apply(["WORKDIR ../x"], { WorkingDir: "/srv/www" }).WorkingDir, "/srv/x");
    assert.equal(apply(["WORKDIR /opt"], { WorkingDir: "/srv" }).WorkingDir, "/opt");
    assertInvalid(() => apply(["WORKDIR"]));
  });
});

describe("applyChanges: ONBUILD", () => {
  test("appends the trigger text after existing ones", () => {
    const out = apply(["ONBUILD RUN echo hi", "onbuild COPY . /src"], { OnBuild: ["ADD x y"] });
    assert.deepEqual(out.OnBuild, ["ADD x y", "RUN echo hi", "COPY . /src"]);
  });

  test("refuses ONBUILD ONBUILD, FROM and MAINTAINER as triggers", () => {
    assertInvalid(() => apply(["ONBUILD ONBUILD RUN x"]));
    assertInvalid(() => apply(["ONBUILD onbuild RUN x"]));
    assertInvalid(() => apply(["ONBUILD FROM busybox"]), "FROM isn't allowed as an ONBUILD trigger");
    assertInvalid(() => apply(["ONBUILD maintainer me"]), "MAINTAINER isn't allowed as an ONBUILD trigger");
  });

  test("ONBUILD ONBUILD says what Docker says", {}, () => {
    assertInvalid(
      () => apply(["ONBUILD ONBUILD RUN x"]),
      "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
    );
  });
});

describe("applyChanges: HEALTHCHECK", () => {
  test("CMD exec form, CMD shell form and NONE", () => {
    assert.deepEqual(apply([`HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]`]).Healthcheck, {
      Test: ["CMD", "curl", "-f", "http://localhost/"],
    });
    assert.deepEqual(apply(["HEALTHCHECK CMD curl -f http://localhost/ || exit 1"]).Healthcheck, {
      Test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
    });
    assert.deepEqual(apply(["HEALTHCHECK NONE"], { Healthcheck: { Test: ["CMD", "x"] } }).Healthcheck, {
      Test: ["NONE"],
    });
  });

  test("neither CMD nor NONE is refused", () => {
    assertInvalid(() => apply(["HEALTHCHECK"]));
    assertInvalid(() => apply(["HEALTHCHECK curl x"]));
  });

  test("options before CMD set the durations (ns) and retries", {}, () => {
    assert.deepEqual(apply(["HEALTHCHECK --interval=5s --timeout=2s --retries=3 CMD true"]).Healthcheck, {
      Test: ["CMD-SHELL", "true"],
      Interval: 5_000_000_000,
      Timeout: 2_000_000_000,
      Retries: 3,
    });
  });

  test("HEALTHCHECK NONE with arguments is refused", {}, () => {
    assertInvalid(() => apply(["HEALTHCHECK NONE extra"]), "HEALTHCHECK NONE takes no arguments");
  });
});

describe("applyChanges: refused instructions and the input", () => {
  test("instructions outside the commit list are refused, named as written", () => {
    assertInvalid(() => apply(["RUN echo hi"]), "RUN is not a valid change command");
    assertInvalid(() => apply(["FROM busybox"]), "FROM is not a valid change command");
    assertInvalid(() => apply(["run echo"]), "run is not a valid change command");
    assertInvalid(() => apply(["MAINTAINER me"]), "MAINTAINER is not a valid change command");
    assertInvalid(() => apply(["COPY a b"]), "COPY is not a valid change command");
  });

  test("a refused change anywhere fails the whole list", () => {
    assertInvalid(() => apply(["ENV A=1", "ADD x y"]), "ADD is not a valid change command");
  });

  test("blank changes are ignored and no changes give an equal copy", () => {
    const config: ContainerConfig = { Env: ["A=1"], Cmd: ["sh"] };
    const out = apply(["", "   "], config);
    assert.deepEqual(out, config);
    assert.notEqual(out, config);
  });

  test("the input config, including its nested arrays and maps, is not mutated", () => {
    const config: ContainerConfig = {
      User: "root",
      Env: ["A=1"],
      Cmd: ["sh"],
      Entrypoint: ["/init"],
      ExposedPorts: { "80/tcp": {} },
      Volumes: { "/v": {} },
      Labels: { a: "1" },
      OnBuild: ["RUN x"],
      WorkingDir: "/w",
      Healthcheck: { Test: ["CMD", "true"] },
    };
    const before = structuredClone(config);
    const out = apply(
      [
        "ENV A=2 B=3",
        "LABEL a=2 b=3",
        "EXPOSE 81",
        "VOLUME /w2",
        "ONBUILD RUN y",
        "WORKDIR sub",
        "USER app",
        "ENTRYPOINT /bin/app",
        "HEALTHCHECK NONE",
      ],
      config,
    );
    assert.deepEqual(config, before);
    assert.deepEqual(out.Env, ["A=2", "B=3"]);
    assert.deepEqual(out.Labels, { a: "2", b: "3" });
    assert.equal(out.WorkingDir, "/w/sub");
    assert.equal(out.User, "app");
  });
});
