import { describe, expect, it } from 'vitest';
import { pinMountdPort } from './defaults.js';

describe('RPCMOUNTDOPTS', () => {
  it('pins the port and keeps the other flags and lines', () => {
    expect(pinMountdPort('A=1\nRPCMOUNTDOPTS="--manage-gids"\nB=2\n', 33333)).toBe('A=1\nRPCMOUNTDOPTS="--manage-gids --port 33333"\nB=2\n');
    expect(pinMountdPort('RPCMOUNTDOPTS="--port=1 --manage-gids"\n', 2)).toBe('RPCMOUNTDOPTS="--manage-gids --port 2"\n');
    const pinned = 'RPCMOUNTDOPTS="--manage-gids --port 33333"\n';
    expect(pinMountdPort(pinned, 33333)).toBe(pinned);
    expect(pinMountdPort('# no such line', 5)).toBe('# no such line\nRPCMOUNTDOPTS="--port 5"\n');
  });
});
