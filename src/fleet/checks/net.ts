/** Addresses as numbers, for subnet and network matches; no DNS, ever. */

export function parseIp(s: string): { v: 4 | 6; n: bigint } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { v: 4, n: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (!s.includes(':')) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(0, fill)).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return { v: 6, n: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** `a.b.c.d/nn`, `a.b.c.d/255.255.255.0` or `v6/nn`. */
export function parseNetwork(s: string): { v: 4 | 6; n: bigint; bits: number } | undefined {
  const [addr, len] = s.split('/');
  const ip = parseIp(addr ?? '');
  if (!ip || len === undefined) return undefined;
  const max = ip.v === 4 ? 32 : 128;
  let bits: number;
  if (/^\d+$/.test(len)) bits = Number(len);
  else {
    const mask = parseIp(len);
    if (!mask || mask.v !== 4) return undefined;
    bits = mask.n.toString(2).replace(/0+$/, '').length;
  }
  return bits > max ? undefined : { ...ip, bits };
}

export function inNetwork(address: string, network: string): boolean {
  const ip = parseIp(address);
  const net = parseNetwork(network);
  if (!ip || !net || ip.v !== net.v) return false;
  const shift = BigInt((net.v === 4 ? 32 : 128) - net.bits);
  return ip.n >> shift === net.n >> shift;
}

export const bareAddress = (a: string) => a.replace(/\/\d+$/, '');
