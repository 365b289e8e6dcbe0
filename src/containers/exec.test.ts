import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RLIM_INFINITY } from "../runtime/spec/types.js";
import {
  decodeContainerProcess,
  execEnv,
  execInvocationError,
  execProcessSpec,
  serializeExecProcess,
} from "./exec.js";

const CONFIG_JSON = `{
  "ociVersion": "1.0.2-dev",
  "process": {
    "user": { "uid": 0, "gid": 0 },
    "args": ["sleep", "1000"],
    "env": ["PATH=/bin", "HOME=/root"],
    "cwd": "/",
    "capabilities": { "bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"] },
    "rlimits": [
      { "type": "RLIMIT_NOFILE", "hard": 524288, "soft": 1024 },
      { "type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 18446744073709551615 }
    ],
    "noNewPrivileges": true,
    "oomScoreAdj": 5
  },
  "hostname": "123456789012: 18446744073709551615",
  "linux": {}
}`;

describe("exec environment", () => {
  test("PATH, HOSTNAME, TERM with a tty, the container's Env, then the exec's, then HOME", () => {
    const env = execEnv(
      { Hostname: "abc", Env: ["PATH=/custom", "X=1", "Y=2"] },
      { Cmd: ["sh"], Tty: true, Env: ["X=exec", "Y", "Z=3"] },
      "/home/u",
    );
    assert.deepEqual(env, ["PATH=/custom", "HOSTNAME=abc", "TERM=xterm", "X=exec", "Z=3", "HOME=/home/u"]);
    const noTty = execEnv({ Hostname: "abc", Env: ["HOME=/data"] }, { Cmd: ["sh"] }, "/root");
    assert.deepEqual(noTty, [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOSTNAME=abc",
      "HOME=/data",
    ]);
  });
});

describe("exec process spec", () => {
  test("the container's capabilities, rlimits (RLIM_INFINITY exact), noNewPrivileges and oomScoreAdj carry over", () => {
    const facts = decodeContainerProcess(CONFIG_JSON);
    assert.deepEqual(facts.capabilities.bounding, ["CAP_CHOWN"]);
    assert.equal(facts.noNewPrivileges, true);
    assert.equal(facts.oomScoreAdj, 5);
    assert.deepEqual(facts.rlimits, [
      { type: "RLIMIT_NOFILE", hard: 524288, soft: 1024 },
      { type: "RLIMIT_CORE", hard: RLIM_INFINITY, soft: RLIM_INFINITY },
    ]);
    const p = execProcessSpec({
      container: facts,
      containerConfig: { Hostname: "h", WorkingDir: "/work", Env: [] },
      exec: { Cmd: ["ls", "-l"], Tty: true, ConsoleSize: [24, 80] },
      user: { uid: 1000, gid: 1000, additionalGids: [1000, 27], home: "/home/u" },
      allCapabilities: [],
    });
    assert.equal(p.terminal, true);
    assert.deepEqual(p.consoleSize, { height: 24, width: 80 });
    assert.deepEqual(p.user, { uid: 1000, gid: 1000, additionalGids: [1000, 27] });
    assert.deepEqual(p.args, ["ls", "-l"]);
    assert.equal(p.cwd, "/work");
    assert.equal(p.noNewPrivileges, true);
    const text = serializeExecProcess(p);
    assert.match(text, /"hard": 18446744073709551615,/);
    assert.doesNotMatch(text, /u64/);
  });

  test("-w wins over WorkingDir, '/' when neither; Privileged grants every host capability", () => {
    const facts = decodeContainerProcess(CONFIG_JSON);
    const base = {
      container: facts,
      containerConfig: {},
      user: { uid: 0, gid: 0, additionalGids: [0], home: "/root" },
      allCapabilities: ["CAP_CHOWN", "CAP_SYS_ADMIN"],
    };
    assert.equal(execProcessSpec({ ...base, exec: { Cmd: ["x"] } }).cwd, "/");
    assert.equal(
      execProcessSpec({
        ...base,
        containerConfig: { WorkingDir: "/a" },
        exec: { Cmd: ["x"], WorkingDir: "/b" },
      }).cwd,
      "/b",
    );
    const priv = execProcessSpec({ ...base, exec: { Cmd: ["x"], Privileged: true } });
    assert.deepEqual(priv.capabilities.effective, ["CAP_CHOWN", "CAP_SYS_ADMIN"]);
    assert.equal(execProcessSpec({ ...base, exec: { Cmd: ["x"] } }).terminal, undefined);
  });

  test("a config.json without a process object is refused", () => {
    assert.throws(() => decodeContainerProcess(`{"ociVersion":"1"}`), /process is not an object/);
    assert.throws(() => decodeContainerProcess("not json"), /not JSON/);
  });
});

describe("exec invocation errors", () => {
  test("127 when the command is not found, 126 otherwise, with containerd's wording", () => {
    const nf = execInvocationError(
      'exec failed: unable to start container process: exec: "x": executable file not found in $PATH',
    );
    assert.equal(nf.exitCode, 127);
    assert.equal(
      nf.message,
      'OCI runtime exec failed: exec failed: unable to start container process: exec: "x": executable file not found in $PATH: unknown',
    );
    assert.equal(execInvocationError('exec: "/etc": permission denied').exitCode, 126);
    assert.equal(execInvocationError("something else broke").exitCode, 126);
  });
});
