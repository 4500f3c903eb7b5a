import { describe, expect, it } from 'vitest';
import { idOf, parseIdFile } from './accounts.js';

describe('idOf', () => {
  const users = Object.fromEntries(parseIdFile('root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\n'));
  it('takes numbers and digits as ids and looks names up', () => {
    expect([idOf(users, 7), idOf(users, '1000'), idOf(users, 'nobody'), idOf(users, 'root')]).toEqual([7, 1000, 65534, 0]);
  });
  it('knows no user the table does not hold, whatever the object prototype has', () => {
    for (const name of ['ghost', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '']) expect(idOf(users, name)).toBeUndefined();
  });
});
