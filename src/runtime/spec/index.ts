/**
 * runtime/spec: the OCI runtime spec (`config.json`) for a container, as Docker builds it for
 * `docker run`. Pure; the runtime driver passes every host fact in. Entry points:
 * `resolveUser` (Config.User over the rootfs's /etc/passwd and /etc/group), then
 * `buildRuntimeSpec` / `planRuntimeSpec`, then `serializeRuntimeSpec` into the bundle.
 */

export * from "./capabilities.js";
export * from "./generate.js";
export * from "./seccomp.js";
export { DEFAULT_SECCOMP_PROFILE } from "./seccomp-default.js";
export * from "./types.js";
export * from "./user.js";
