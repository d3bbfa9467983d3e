/**
 * The local addresses TCP sockets listen on for one port, from Linux's /proc/net/tcp and tcp6 (the
 * kernel's view, whatever the server's code says): "127.0.0.1", "::1", "0.0.0.0", "::", … An empty list
 * when nothing listens there. Linux only.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

const LISTEN = '0A';

function ipv4(hex: string): string {
  // /proc prints the address as one little-endian 32-bit word.
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

function ipv6(hex: string): string {
  // Four little-endian 32-bit words.
  const bytes = [0, 8, 16, 24].flatMap((w) => [6, 4, 2, 0].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16)));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = Array.from({ length: 8 }, (_, g) => ((bytes[2 * g]! << 8) | bytes[2 * g + 1]!).toString(16));
  return groups.join(':').replace(/^0(:0)+$/, '::').replace(/^(0:)+1$/, '::1');
}

export function listeningAddresses(port: number): string[] {
  const addresses: string[] = [];
  for (const [file, decode] of [
    ['/proc/net/tcp', ipv4],
    ['/proc/net/tcp6', ipv6],
  ] as const) {
    let table = '';
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of table.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== LISTEN) continue;
      const [address, portHex] = local.split(':');
      if (parseInt(portHex!, 16) === port) addresses.push(decode(address!));
    }
  }
  return addresses;
}

/** A loopback address: 127.0.0.0/8, ::1, or 127.x mapped into IPv6. */
export function isLoopback(address: string): boolean {
  return /^(::ffff:)?127\./.test(address) || address === '::1';
}

/** Something listens on `port`, and only on loopback addresses (Java's IPv6 sockets show 127.0.0.1 as ::ffff:127.0.0.1). */
export function expectLoopbackOnly(port: number, label = `port ${port}`): void {
  const addresses = listeningAddresses(port);
  expect(addresses.length, label).toBeGreaterThan(0);
  expect(addresses.filter((a) => !isLoopback(a)), label).toEqual([]);
}
