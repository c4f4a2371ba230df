/** IP / CIDR allowlists for inbound trunk admission (the engine's authorize() uses this). */
import net from 'node:net';

export class AllowListError extends Error {
  readonly code = 'SIP_BAD_CIDR' as const;
  constructor(readonly entry: string) {
    super(`invalid IP or CIDR: ${entry}`);
    this.name = 'AllowListError';
  }
}

/**
 * Build a matcher from entries such as "203.0.113.7", "198.51.100.0/24", "2001:db8::/32".
 * Throws AllowListError for an invalid entry.
 */
export function createAllowList(entries: readonly string[]): (address: string) => boolean {
  const list = new net.BlockList();
  for (const raw of entries) {
    const e = raw.trim();
    const [addr, prefix] = e.split('/') as [string, string | undefined];
    const family = net.isIP(addr);
    if (!family) throw new AllowListError(raw);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(addr, type);
    else {
      const n = Number(prefix);
      if (!/^\d{1,3}$/.test(prefix) || n > (family === 6 ? 128 : 32)) throw new AllowListError(raw);
      list.addSubnet(addr, n, type);
    }
  }
  return (address: string) => {
    const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
    const family = net.isIP(a);
    if (!family) return false;
    return list.check(a, family === 6 ? 'ipv6' : 'ipv4');
  };
}
