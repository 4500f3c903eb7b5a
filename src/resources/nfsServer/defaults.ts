/** RPCMOUNTDOPTS in /etc/default/nfs-kernel-server, edited losslessly. */

/**
 * Pins `--port N` inside RPCMOUNTDOPTS, keeping its other flags and every other line.
 * Returns the file unchanged when the port is already pinned.
 */
export function pinMountdPort(text: string, port: number): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => /^\s*RPCMOUNTDOPTS=/.test(l));
  const current = i === -1 ? '' : unquote(lines[i]!.replace(/^\s*RPCMOUNTDOPTS=/, ''));
  const flags = current.split(/\s+/).filter(Boolean);
  const kept: string[] = [];
  for (let k = 0; k < flags.length; k++) {
    const f = flags[k]!;
    if (f === '--port' || f === '-p') k++; // drop the flag and its value
    else if (!f.startsWith('--port=')) kept.push(f);
  }
  const value = [...kept, '--port', String(port)].join(' ');
  if (i !== -1 && current.split(/\s+/).filter(Boolean).join(' ') === value) return text;
  const line = `RPCMOUNTDOPTS="${value}"`;
  if (i === -1) {
    const body = text === '' || text.endsWith('\n') ? text : `${text}\n`;
    return `${body}${line}\n`;
  }
  lines[i] = line;
  return lines.join('\n');
}

/** Takes `--port N` out of RPCMOUNTDOPTS, keeping its other flags and every other line. */
export function unpinMountdPort(text: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => /^\s*RPCMOUNTDOPTS=/.test(l));
  if (i === -1) return text;
  const flags = unquote(lines[i]!.replace(/^\s*RPCMOUNTDOPTS=/, '')).split(/\s+/).filter(Boolean);
  const kept = flags.filter((f, k) => !(f === '--port' || f === '-p' || f.startsWith('--port=') || flags[k - 1] === '--port' || flags[k - 1] === '-p'));
  if (kept.length === flags.length) return text;
  lines[i] = `RPCMOUNTDOPTS="${kept.join(' ')}"`;
  return lines.join('\n');
}

function unquote(v: string): string {
  const t = v.trim();
  return /^(["']).*\1$/.test(t) ? t.slice(1, -1) : t;
}
