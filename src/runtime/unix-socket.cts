/**
 * node-unix-socket (SOCK_SEQPACKET for conmon's attach socket, ./attach.ts), loaded without its
 * loader's libc probe: that loader asks Node for a whole diagnostic report
 * (`process.report.getReport()`, 20–40 ms of CPU) only to tell glibc from musl before it picks
 * its prebuilt addon package — on every `run`, `start -a`, `attach` and `exec` that attaches.
 *
 * npm installs only the addon package that matches the machine's libc (its package.json says
 * which), so the one that loads is the right one: it is put in the require cache (Node documents
 * adding entries there) under the loader's own path, and node-unix-socket's modules find it there.
 * When no such package loads (another platform, a musl system), the package's loader does its
 * usual probe.
 *
 * CommonJS (a .cts file), for `require.cache`; the bundle keeps it as it is.
 * It never loads an addon other than the one npm installed for this machine's libc.
 */
import Module = require("node:module");

type UnixSocket = typeof import("node-unix-socket");

function prebuiltAddon(): unknown {
  for (const libc of ["gnu", "musl"]) {
    try {
      return require(`node-unix-socket-${process.platform}-${process.arch}-${libc}`);
    } catch {
      // not installed here, or not loadable: try the next
    }
  }
  return undefined;
}

let loaded: UnixSocket | undefined;

export function loadUnixSocket(): UnixSocket {
  if (loaded) return loaded;
  const addon = prebuiltAddon();
  if (addon !== undefined) {
    const loaderPath = require.resolve("node-unix-socket/js/addon.js");
    if (!require.cache[loaderPath]) {
      const m = new Module(loaderPath);
      m.filename = loaderPath;
      m.loaded = true;
      m.exports = addon;
      require.cache[loaderPath] = m;
    }
  }
  const mod: UnixSocket = require("node-unix-socket");
  loaded = mod;
  return mod;
}
