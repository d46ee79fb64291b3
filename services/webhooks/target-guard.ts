// Webhook targets are URLs that customers choose, fetched from inside our network: without a guard they
// would reach the cloud metadata service, the database or Redis (SSRF). Every address a target resolves
// to is checked when it is registered and again at every attempt, on the very address the connection
// then uses, so a DNS name that later points inside (DNS rebinding) is refused too.
import { BlockList, isIP } from "node:net";
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { InvalidArgumentError } from "../platform/errors/errors.js";

/** Networks that are not the public internet (IANA special-purpose registries, plus the metadata services). */
const NON_PUBLIC_V4 = [
  "0.0.0.0/8", // "this network"
  "10.0.0.0/8", // private
  "100.64.0.0/10", // carrier-grade NAT
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local, where 169.254.169.254 (cloud metadata) lives
  "172.16.0.0/12", // private
  "192.0.0.0/24", // IETF protocol assignments
  "192.0.2.0/24", // documentation
  "192.88.99.0/24", // 6to4 relay anycast
  "192.168.0.0/16", // private
  "198.18.0.0/15", // benchmarking
  "198.51.100.0/24", // documentation
  "203.0.113.0/24", // documentation
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved, and 255.255.255.255 broadcast
];
const NON_PUBLIC_V6 = [
  "::/128", // unspecified
  "::1/128", // loopback
  "::/96", // IPv4-compatible (deprecated)
  "100::/64", // discard-only
  "2001:db8::/32", // documentation
  "2001::/23", // IETF protocol assignments (Teredo, ORCHID, ...)
  "fc00::/7", // unique local, where AWS's fd00:ec2::254 metadata lives
  "fe80::/10", // link-local
  "fec0::/10", // site-local (deprecated)
  "ff00::/8", // multicast
];

function blockListOf(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split("/") as [string, string];
    list.addSubnet(address, Number(bits), isIP(address) === 6 ? "ipv6" : "ipv4");
  }
  return list;
}

const nonPublic = blockListOf([...NON_PUBLIC_V4, ...NON_PUBLIC_V6]);

/**
 * The IPv4 address an IPv6 address carries, if it is one of the forms that reach an IPv4 host: IPv4-mapped
 * (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002:aabb:ccdd::/48).
 */
export function embeddedIpv4(address: string): string | undefined {
  const groups = expandIpv6(address);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && groups[5] === 0xffff) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (a zone id dropped), or undefined if it is not one. */
function expandIpv6(address: string): number[] | undefined {
  let text = address.split("%")[0]!;
  if (isIP(text) !== 6) return undefined;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? (text.split("::") as [string, string]) : [text, undefined];
  const parse = (part: string) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

export interface TargetPolicy {
  /** Every address allowed: tests and closed networks. */
  allowPrivate: boolean;
  /** Non-public networks allowed all the same. */
  allowedCidrs: string[];
}

export class TargetGuard {
  private readonly allowed: BlockList;

  constructor(private readonly policy: TargetPolicy) {
    this.allowed = blockListOf(policy.allowedCidrs);
  }

  /** Why `address` may not be a webhook target, or undefined when it may. */
  refusal(address: string): string | undefined {
    if (this.policy.allowPrivate) return undefined;
    const family = isIP(address.split("%")[0]!);
    if (family === 0) return `${address} is not an IP address`;
    const plain = address.split("%")[0]!;
    const type = family === 6 ? "ipv6" : "ipv4";
    if (this.allowed.check(plain, type)) return undefined;
    const v4 = family === 6 ? embeddedIpv4(plain) : undefined;
    if (v4 !== undefined) return this.refusal(v4) === undefined ? undefined : `${address} (${v4}) is not a public address`;
    return nonPublic.check(plain, type) ? `${address} is not a public address` : undefined;
  }

  /**
   * A `lookup` for http(s).request that resolves the name and fails if ANY of its addresses is refused,
   * so the socket can only ever connect to an address that was checked.
   */
  readonly lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
    dnsLookup(hostname, { all: true, family }, (err, addresses) => {
      if (err) return callback(err, []);
      const refused = addresses.map((a) => this.refusal(a.address)).find((r) => r !== undefined);
      if (refused) return callback(new TargetRefusedError(`${hostname} resolves to ${refused}`), []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };

  /** Refuses a URL whose host is, or resolves to, a refused address (at registration, for a clear answer). */
  async check(url: URL): Promise<void> {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host)) {
      const refused = this.refusal(host);
      if (refused) throw new TargetRefusedError(refused);
      return;
    }
    await new Promise<void>((resolve, reject) =>
      this.lookup(host, { all: true }, (err) => (err ? reject(err instanceof TargetRefusedError ? err : new TargetRefusedError(`${host} does not resolve: ${err.code ?? err.message}`)) : resolve())),
    );
  }
}

/** A webhook target that policy forbids. Its message names the address, never anything internal. */
export class TargetRefusedError extends InvalidArgumentError {
  constructor(reason: string) {
    super("url", `refused: ${reason}; webhooks are delivered to public addresses only`);
  }
}
