/**
 * The base of the container service's parts (queries, recovery, files): each holds the service
 * and reaches its store, dependencies, runtime driver and clock through these accessors. Owns only
 * that plumbing; never state of its own (the service is the one owner of the store and the locks).
 */
import type { ContainerService } from "./service.js";

export abstract class ContainerServicePart {
  constructor(protected readonly svc: ContainerService) {}

  protected get meta() {
    return this.svc.meta;
  }
  protected get deps() {
    return this.svc.deps;
  }
  protected get driver() {
    return this.svc.deps.driver;
  }
  protected now(): number {
    return this.svc.now();
  }
}
