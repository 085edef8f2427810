import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { Agent, buildConnector, type Dispatcher } from "undici";

/** Which robot endpoints the platform may call. */
export interface EndpointPolicy {
  /** CIDRs let through although not public, e.g. `10.20.0.0/16` for robots on the operator's own network. */
  readonly allowedNetworks: readonly string[];
}

export type RobotUrlCheck = { ok: true; url: string } | { ok: false; reason: string };

/** The platform refused to connect to an address; thrown into undici by the guarded dispatcher. */
export class EndpointRefusedError extends Error {
  readonly code = "ERR_ROBOT_ENDPOINT_REFUSED";
  constructor(message: string) {
    super(message);
    this.name = "EndpointRefusedError";
  }
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Network = [Address, number];

const RANGE_LABELS: Record<string, string> = {
  unspecified: "an unspecified address",
  broadcast: "the broadcast address",
  multicast: "a multicast address",
  linkLocal: "a link-local address",
  loopback: "a loopback address",
  private: "a private address",
  carrierGradeNat: "a private address (carrier-grade NAT, 100.64.0.0/10)",
  uniqueLocal: "a private address (IPv6 unique local)",
  reserved: "a reserved address",
};
const CLOUD_METADATA = ipaddr.parse("169.254.169.254");
// IANA hands out public IPv6 only from 2000::/3; ipaddr.js calls anything it has no name for "unicast".
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");
const PUBLIC_ONLY = "; robot endpoints must be public addresses";

function parseNetworks(cidrs: readonly string[]): Network[] {
  return cidrs.map((cidr) => {
    try {
      return ipaddr.parseCIDR(cidr);
    } catch {
      throw new RangeError(`allowedNetworks: "${cidr}" is not a CIDR like 10.0.0.0/8 or fd00::/8`);
    }
  });
}

/** What kind of address this is when it may not be called ("a loopback address"), or null when it may. */
function refusal(text: string, networks: readonly Network[]): string | null {
  let written: Address;
  try {
    written = ipaddr.parse(text);
  } catch {
    return "not an IP address";
  }
  // An IPv4-mapped IPv6 address reaches the IPv4 address it carries, so that address is what is judged.
  const carried =
    written instanceof ipaddr.IPv6 && written.isIPv4MappedAddress() ? written.toIPv4Address() : null;
  const address = carried ?? written;
  const mapped = carried ? " (IPv4-mapped)" : "";
  if (networks.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits)))
    return null;
  const range = address.range();
  if (range === "unicast") {
    if (address.kind() === "ipv4" || address.match(GLOBAL_UNICAST_V6)) return null;
    return `a reserved address${mapped}`;
  }
  if (address.kind() === "ipv4" && address.match(CLOUD_METADATA, 32)) {
    return `a link-local address, the cloud metadata service${mapped}`;
  }
  return `${RANGE_LABELS[range] ?? `a special-purpose address (${range})`}${mapped}`;
}

/** The first of a name's addresses that may not be called, said as a reason; null when all may. */
function refuseAddresses(host: string, addresses: readonly string[], networks: readonly Network[]) {
  for (const address of addresses) {
    const kind = refusal(address, networks);
    if (kind === null) continue;
    const subject = address === host ? address : `${host} resolves to ${address}, which`;
    return `${subject} is ${kind}${PUBLIC_ONLY}`;
  }
  return null;
}

/**
 * Checks a robot endpoint an owner registers: http(s), no credentials, and every address its host
 * resolves to public (or inside allowedNetworks). Throws only on a policy with a malformed CIDR.
 */
export async function checkRobotUrl(url: string, policy: EndpointPolicy): Promise<RobotUrlCheck> {
  const networks = parseNetworks(policy.allowedNetworks);
  if (!URL.canParse(url)) return { ok: false, reason: `"${url}" is not a URL` };
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return { ok: false, reason: `the endpoint must be http or https, not ${parsed.protocol.slice(0, -1)}` };
  }
  if (parsed.username || parsed.password) {
    return { ok: false, reason: "the endpoint must not carry a user name or password" };
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((entry) => entry.address);
    } catch (error) {
      return { ok: false, reason: `${host} does not resolve (${(error as NodeJS.ErrnoException).code})` };
    }
  }
  const reason = refuseAddresses(host, addresses, networks);
  return reason ? { ok: false, reason } : { ok: true, url: parsed.href };
}

const familyNumber = (family: number | string | undefined) =>
  family === "IPv4" ? 4 : family === "IPv6" ? 6 : typeof family === "number" ? family : 0;

const notFound = (hostname: string) =>
  Object.assign(new Error(`${hostname} has no address of the family asked for`), { code: "ENOTFOUND" });

/** Every address a name has (tests pass their own resolver). */
export type AddressLookup = (hostname: string) => Promise<LookupAddress[]>;

const systemLookup: AddressLookup = (hostname) => lookup(hostname, { all: true });

// A motor board closes every connection, so each command dials again: one lookup per name this often
// keeps a command's overhead low. The addresses dialled are still the ones judged, so a rebinding inside
// this window changes nothing.
const LOOKUP_CACHE_MS = 2000;
const LOOKUP_CACHE_NAMES = 1000;

/**
 * Where the platform may connect, judged on the address actually dialled: a name that resolved to a public
 * address at registration and to 127.0.0.1 now (DNS rebinding) is still refused.
 */
export interface AddressGuard {
  /** For node:net, node:http and undici's connector: resolves a name, refusing it with EndpointRefusedError. */
  readonly lookup: LookupFunction;
  /** The refusal of an IP literal (Node never calls `lookup` for one), or null when it may be called. */
  refuseLiteral(host: string): EndpointRefusedError | null;
}

/** The guard for checkRobotUrl's rules, with `resolve` answering DNS. */
export function addressGuard(policy: EndpointPolicy, resolve: AddressLookup = systemLookup): AddressGuard {
  const networks = parseNetworks(policy.allowedNetworks);
  const cache = new Map<string, { at: number; addresses: Promise<LookupAddress[]> }>();
  const addressesOf = (hostname: string): Promise<LookupAddress[]> => {
    const cached = cache.get(hostname);
    if (cached && Date.now() - cached.at < LOOKUP_CACHE_MS) return cached.addresses;
    if (cache.size >= LOOKUP_CACHE_NAMES) cache.clear();
    const addresses = resolve(hostname);
    cache.set(hostname, { at: Date.now(), addresses });
    addresses.catch(() => cache.delete(hostname));
    return addresses;
  };
  return {
    lookup: (hostname, options, callback) => {
      addressesOf(hostname).then(
        (all) => {
          const reason = refuseAddresses(
            hostname,
            all.map((entry) => entry.address),
            networks,
          );
          if (reason) return callback(new EndpointRefusedError(reason), "", 0);
          const family = familyNumber(options.family);
          const addresses = family ? all.filter((entry) => entry.family === family) : all;
          // Node asks for every address when it races IPv4 and IPv6 (autoSelectFamily), else for one.
          if (options.all) return callback(null, addresses);
          const [first] = addresses;
          if (!first) return callback(notFound(hostname), "", 0);
          callback(null, first.address, first.family);
        },
        (error: NodeJS.ErrnoException) => callback(error, "", 0),
      );
    },
    refuseLiteral(host) {
      const bare = host.replace(/^\[(.*)\]$/, "$1");
      if (!isIP(bare)) return null;
      const reason = refuseAddresses(bare, [bare], networks);
      return reason ? new EndpointRefusedError(reason) : null;
    },
  };
}

/** An undici dispatcher whose every connection passes the address guard; refusals reject with EndpointRefusedError. */
export function guardedDispatcher(policy: EndpointPolicy, resolve: AddressLookup = systemLookup): Dispatcher {
  return dispatcherThrough(addressGuard(policy, resolve));
}

/** An undici dispatcher whose every connection passes `guard`. */
export function dispatcherThrough(guard: AddressGuard): Dispatcher {
  const connector = buildConnector({ lookup: guard.lookup });
  return new Agent({
    connect(options, callback) {
      const refused = guard.refuseLiteral(options.hostname);
      if (refused) return callback(refused, null);
      connector(options, callback);
    },
  });
}
