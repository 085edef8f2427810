import { lookup } from "node:dns/promises";

export type Lookup = (hostname: string) => Promise<string>;

const systemLookup: Lookup = async (hostname) => (await lookup(hostname, { family: 4 })).address;

/**
 * Turns `http://name.local` into `http://<ip>`, asking the system's mDNS resolver once per name.
 * A robot's firmware serves one client at a time and mDNS queries are slow, so the answer is kept
 * until the robot stops answering at it (its DHCP lease may have moved it).
 */
export class LocalNameResolver {
  readonly #cache = new Map<string, Promise<string>>();

  constructor(private readonly resolve: Lookup = systemLookup) {}

  async url(base: string): Promise<string> {
    const url = new URL(base);
    if (!url.hostname.endsWith(".local")) return base;
    url.hostname = await this.ip(url.hostname);
    return url.toString().replace(/\/+$/, "");
  }

  ip(hostname: string): Promise<string> {
    let pending = this.#cache.get(hostname);
    if (!pending) {
      pending = this.resolve(hostname);
      this.#cache.set(hostname, pending);
      pending.catch(() => this.#cache.delete(hostname));
    }
    return pending;
  }

  /** The last answer for a name, without asking the network. */
  cached(hostname: string): Promise<string> | undefined {
    return this.#cache.get(hostname);
  }

  forget(base: string): void {
    this.#cache.delete(new URL(base).hostname);
  }
}
