import { describe, expect, it } from "vitest";
import { embeddedIpv4, TargetGuard } from "./target-guard.js";

const strict = new TargetGuard({ allowPrivate: false, allowedCidrs: [] });

describe("target guard", () => {
  it("refuses loopback, private, link-local, metadata, multicast and reserved addresses, v4 and v6", () => {
    const refused = [
      "127.0.0.1", "127.5.6.7", "0.0.0.0", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
      "169.254.169.254", "224.0.0.1", "239.255.255.250", "255.255.255.255", "198.18.0.1",
      "::", "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd00:ec2::254", "ff02::1",
      "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "::127.0.0.1",
    ];
    expect(refused.filter((a) => strict.refusal(a) === undefined)).toEqual([]);
  });

  it("lets public addresses through, also when IPv4-mapped", () => {
    const allowed = ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2a00:1450:4001:80b::200e"];
    expect(Object.fromEntries(allowed.map((a) => [a, strict.refusal(a)]))).toEqual(Object.fromEntries(allowed.map((a) => [a, undefined])));
  });

  it("finds the IPv4 address inside mapped, NAT64 and 6to4 addresses", () => {
    expect(embeddedIpv4("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(embeddedIpv4("::ffff:a9fe:a9fe")).toBe("169.254.169.254");
    expect(embeddedIpv4("64:ff9b::808:808")).toBe("8.8.8.8");
    expect(embeddedIpv4("2002:0a00:0001::")).toBe("10.0.0.1");
    expect(embeddedIpv4("2606:4700::1111")).toBeUndefined();
  });

  it("allows configured networks, and everything when told to", () => {
    const some = new TargetGuard({ allowPrivate: false, allowedCidrs: ["10.20.0.0/16", "fd12::/16"] });
    expect(some.refusal("10.20.3.4")).toBeUndefined();
    expect(some.refusal("::ffff:10.20.3.4")).toBeUndefined();
    expect(some.refusal("fd12::5")).toBeUndefined();
    expect(some.refusal("10.21.0.1")).toMatch(/not a public address/);
    expect(some.refusal("127.0.0.1")).toMatch(/not a public address/);
    const open = new TargetGuard({ allowPrivate: true, allowedCidrs: [] });
    expect(open.refusal("127.0.0.1")).toBeUndefined();
  });

  it("checks DNS names on every address they resolve to", async () => {
    await expect(strict.check(new URL("https://localhost/"))).rejects.toThrow(/localhost resolves to .* is not a public address/);
    await expect(strict.check(new URL("https://[::1]/"))).rejects.toThrow(/not a public address/);
  });
});
